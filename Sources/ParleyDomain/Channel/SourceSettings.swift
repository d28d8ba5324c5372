/// How staff names show to visitors on a source (CINNOX's display-name format).
public enum DisplayNameFormat: UInt8, Sendable, CaseIterable {
    /// No staff name: replies show as the source.
    case none = 0
    case firstName = 1
    case fullName = 2

    public var name: String { ["none", "first_name", "full_name"][Int(rawValue)] }

    public init?(name: String) {
        guard let format = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = format
    }

    /// `displayName` as a visitor sees it: nil for `none`, the first word for `firstName`.
    public func shown(_ displayName: String) -> String? {
        switch self {
        case .none: nil
        case .firstName: displayName.split(separator: " ").first.map(String.init) ?? displayName
        case .fullName: displayName
        }
    }
}

/// What a channel does with the enquiries it brings (its routing settings, welcome and away
/// messages, display-name format, offer timeout and idle close).
public struct SourceSettings: Sendable, Equatable {
    /// nil: no routing rule; enquiries wait unassigned.
    public var rule: RoutingRule?
    /// Sent to a visitor when they first write (nil: none).
    public var welcomeMessage: String?
    /// Sent once when nobody can take the enquiry (nil: none).
    public var awayMessage: String?
    public var displayName: DisplayNameFormat
    public var offerTimeoutSeconds: Int
    /// 0: never closed for being idle.
    public var idleCloseMinutes: Int

    public init(
        rule: RoutingRule? = nil, welcomeMessage: String? = nil, awayMessage: String? = nil, displayName: DisplayNameFormat = .fullName,
        offerTimeoutSeconds: Int = 60, idleCloseMinutes: Int = 30
    ) {
        self.rule = rule
        self.welcomeMessage = welcomeMessage
        self.awayMessage = awayMessage
        self.displayName = displayName
        self.offerTimeoutSeconds = offerTimeoutSeconds
        self.idleCloseMinutes = idleCloseMinutes
    }

    public func validate() throws(DomainError) {
        try rule?.validate()
        for message in [welcomeMessage, awayMessage].compactMap({ $0 }) where !(1...2_000).contains(message.unicodeScalars.count) {
            throw DomainError(.invalidArgument, "a welcome or away message has 1 to 2000 characters")
        }
        guard (10...3_600).contains(offerTimeoutSeconds) else { throw DomainError(.invalidArgument, "an offer timeout is 10 to 3600 seconds") }
        guard (0...10_080).contains(idleCloseMinutes) else { throw DomainError(.invalidArgument, "an idle close is 0 to 10080 minutes") }
    }
}

extension SourceSettings: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(rule != nil)
        rule?.encode(into: &writer)
        writer.write(welcomeMessage)
        writer.write(awayMessage)
        writer.write(displayName.rawValue)
        writer.writeVarint(UInt64(max(0, offerTimeoutSeconds)))
        writer.writeVarint(UInt64(max(0, idleCloseMinutes)))
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> SourceSettings {
        let rule = try reader.readBool() ? try RoutingRule.decode(from: &reader) : nil
        let welcome = try reader.readOptionalString()
        let away = try reader.readOptionalString()
        let format = try reader.read(DisplayNameFormat.self, "display-name format")
        return SourceSettings(
            rule: rule, welcomeMessage: welcome, awayMessage: away, displayName: format,
            offerTimeoutSeconds: try reader.readCount(atMost: 1_000_000, of: "seconds"), idleCloseMinutes: try reader.readCount(atMost: 1_000_000, of: "minutes"))
    }
}

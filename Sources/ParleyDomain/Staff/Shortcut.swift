/// A quick link or text shortcut a staff member sends with one word: a web link, a phone
/// number or a piece of text.
public struct Shortcut: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case link = 1
        case phone = 2
        case text = 3

        public var name: String { ["link", "phone", "text"][Int(rawValue) - 1] }

        public init?(name: String) {
            guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = kind
        }
    }

    /// What the staff member types: 1 to 32 of `a-z 0-9 _ -`.
    public var code: String
    public var kind: Kind
    public var title: String
    public var value: String

    public init(code: String, kind: Kind, title: String, value: String) {
        self.code = code
        self.kind = kind
        self.title = title
        self.value = value
    }

    /// Checks the shortcut; the error names what is wrong.
    public func validate() throws(DomainError) {
        guard (1...32).contains(code.utf8.count),
            code.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D })
        else { throw DomainError(.invalidArgument, "a shortcut code has 1 to 32 of a-z 0-9 _ -") }
        guard title.unicodeScalars.count <= 100 else { throw DomainError(.invalidArgument, "a shortcut title has at most 100 characters") }
        switch kind {
        case .link:
            let lowered = value.lowercased()
            // Printable ASCII only: anything else in a URL is percent-encoded.
            guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://"), value.utf8.count <= 2_048,
                value.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
            else {
                throw DomainError(.invalidArgument, "a link shortcut is an http(s) URL of at most 2048 printable ASCII characters")
            }
        case .phone:
            let digits = value.utf8.first == 0x2B ? value.utf8.dropFirst() : value.utf8[...]
            guard (3...20).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw DomainError(.invalidArgument, "a phone shortcut is + and 3 to 20 digits")
            }
        case .text:
            guard !value.trimmingWhitespace().isEmpty, value.unicodeScalars.count <= 1_000 else {
                throw DomainError(.invalidArgument, "a text shortcut has 1 to 1000 characters")
            }
        }
    }

    /// The message text the shortcut expands to.
    public var expansion: String {
        switch kind {
        case .link, .phone: title.isEmpty ? value : "\(title): \(value)"
        case .text: value
        }
    }

    public func encode(into writer: inout BinaryWriter) {
        writer.write(code)
        writer.write(kind.rawValue)
        writer.write(title)
        writer.write(value)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Shortcut {
        let code = try reader.readString()
        let rawKind = try reader.readUInt8()
        guard let kind = Kind(rawValue: rawKind) else { throw DecodingError("unknown shortcut kind \(rawKind)") }
        return Shortcut(code: code, kind: kind, title: try reader.readString(), value: try reader.readString())
    }
}

/// Who a visitor is: what they told the widget, where they came from, when.
public struct VisitorProfile: Sendable, Equatable {
    /// The source (a widget or weblink channel) they came through, and its name.
    public var source: ChannelID
    public var name: String
    public var email: String?
    /// Visitor form fields, device and UTM parameters, for the enquiry rooms' information.
    public var information: RoomInformation
    public var createdAt: Timestamp

    public init(source: ChannelID, name: String, email: String? = nil, information: RoomInformation = RoomInformation(), createdAt: Timestamp) {
        self.source = source
        self.name = name
        self.email = email
        self.information = information
        self.createdAt = createdAt
    }

    public func validate() throws(DomainError) {
        guard (1...100).contains(name.unicodeScalars.count) else { throw DomainError(.invalidArgument, "a visitor name has 1 to 100 characters") }
        if let email, !(3...254).contains(email.unicodeScalars.count) || !email.unicodeScalars.contains("@") {
            throw DomainError(.invalidArgument, "\(email) is not an e-mail address")
        }
        try information.validate()
    }
}

/// What the source says about enquiries, as a visitor's first message needs it.
public struct EnquirySource: Sendable, Equatable {
    public var name: String
    public var settings: SourceSettings

    public init(name: String, settings: SourceSettings) {
        self.name = name
        self.settings = settings
    }
}

/// What is asked of a visitor.
public enum VisitorCommand: Sendable, Equatable {
    /// A visitor session opens (the visitor API, for a widget or weblink).
    case create(name: String, email: String?, source: ChannelID, information: RoomInformation, tokenHash: [UInt8])
    /// The visitor writes: into their open enquiry, or opening the next one with it (with
    /// `source`'s settings, or those of their last enquiry's source when the writer sends none).
    /// Every message goes through here, so each follows the one before it into the room.
    case write(text: String, source: EnquirySource?, idempotencyKey: String?)
    /// Their enquiry was closed when a message this entity sent it arrived: it goes to the
    /// next enquiry (opened for it if need be).
    case bounced(text: String, idempotencyKey: String?, from: EnquiryID)
    /// A staff member accepted their enquiry (Sticky routing remembers them).
    case served(EnquiryID, by: StaffID)
    case enquiryClosed(EnquiryID)
}

public enum VisitorEvent: Sendable, Equatable {
    case created(VisitorProfile, tokenHash: [UInt8])
    case enquiryOpened(EnquiryID, at: Timestamp, source: EnquirySource)
    case served(EnquiryID, by: StaffID)
    case enquiryClosed(EnquiryID, at: Timestamp)
}

extension DomainError.Code {
    public static let visitorNotFound = DomainError.Code("visitor_not_found", .notFound)
}

extension EntityKind {
    /// Visitors of widgets and weblinks, and channels' customers.
    public static let visitor = EntityKind(rawValue: 8, name: "visitor")
}

/// A visitor: their profile and token, their open enquiry, who served them last.
public struct VisitorState: Sendable, Equatable {
    public let id: VisitorID
    public internal(set) var profile: VisitorProfile?
    public internal(set) var tokenHash: [UInt8]
    public internal(set) var openEnquiry: EnquiryID?
    /// How many enquiries they opened (numbers the next: `<visitor id>-<n>`).
    public internal(set) var enquiryCount: Int
    /// The staff member who last served them (Sticky routing).
    public internal(set) var lastAgent: StaffID?
    /// The source's settings as their last enquiry opened (for a message bounced back).
    public internal(set) var source: EnquirySource?

    public init(id: VisitorID) {
        self.id = id
        tokenHash = []
        enquiryCount = 0
    }

    public var exists: Bool { profile != nil }

    /// The id of the visitor's `number`th enquiry.
    public func enquiry(_ number: Int) -> EnquiryID { EnquiryID(unchecked: "\(id.rawValue)-\(number)") }
}

extension VisitorState: EntityRules {
    public static var kind: EntityKind { .visitor }

    public init(key: String) { self.init(id: VisitorID(unchecked: key)) }

    /// The node creates visitors (the visitor API is anonymous until then); the visitor writes
    /// as themselves; only their enquiries say who served them, that one closed, or bounce a
    /// message that arrived after the close.
    public func decide(_ command: VisitorCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<VisitorEvent> {
        let caller = context.caller
        switch command {
        case let .create(name, email, source, information, tokenHash):
            try caller.require(caller.isInternal || caller.isAdmin, "create visitors")
            guard !exists else { return Decision() }
            guard tokenHash.count == 32 else { throw DomainError(.invalidArgument, "a token hash is 32 bytes") }
            let profile = VisitorProfile(source: source, name: name.trimmingWhitespace(), email: email, information: information, createdAt: context.now)
            try profile.validate()
            return Decision([.created(profile, tokenHash: tokenHash)])
        case let .write(text, source, key):
            try caller.require(caller.isInternal || caller == .visitor(id.rawValue), "write as visitor \(id)")
            try EnquiryState.validateVisitorMessage(text, key: key)
            return try write(text, key: key, source: source ?? self.source, now: context.now)
        case let .bounced(text, key, from):
            try caller.require(caller == .entity(.enquiry(from)), "bounce messages to visitor \(id)")
            var state = self
            var events: [VisitorEvent] = []
            // The close that bounced it left that enquiry first; noted here if it was not yet.
            if openEnquiry == from {
                events.append(.enquiryClosed(from, at: context.now))
                state.apply(events[0])
            }
            let decision = try state.write(text, key: key, source: source, now: context.now)
            return Decision(events + decision.events, effects: decision.effects)
        case let .served(enquiry, staff):
            try caller.require(caller == .entity(.enquiry(enquiry)), "note who served visitor \(id)")
            return lastAgent == staff ? Decision() : Decision([.served(enquiry, by: staff)])
        case let .enquiryClosed(enquiry):
            try caller.require(caller == .entity(.enquiry(enquiry)), "close visitor \(id)'s enquiries")
            return openEnquiry == enquiry ? Decision([.enquiryClosed(enquiry, at: context.now)]) : Decision()
        }
    }

    /// Opens the next enquiry with `text`, or sends `text` to the open one (after its opening,
    /// in order: both are this entity's effects to that enquiry).
    func write(_ text: String, key: String?, source: EnquirySource?, now: Timestamp) throws(DomainError) -> Decision<VisitorEvent> {
        guard let profile else { throw DomainError(.visitorNotFound, "no visitor \(id)") }
        if let open = openEnquiry {
            return Decision(effects: [.send(EnquiryCommand.visitorMessage(text: text, idempotencyKey: key), to: open.rawValue, of: EnquiryState.self)])
        }
        guard let source else { throw DomainError(.invalidArgument, "visitor \(id)'s source settings are needed to open an enquiry") }
        let enquiry = self.enquiry(enquiryCount + 1)
        let start = EnquiryStart(
            source: profile.source, sourceName: source.name, visitor: id, visitorName: profile.name, firstMessage: text,
            information: profile.information, rule: source.settings.rule, lastAgent: lastAgent, offerTimeoutSeconds: source.settings.offerTimeoutSeconds,
            idleCloseMinutes: source.settings.idleCloseMinutes, welcomeMessage: source.settings.welcomeMessage, awayMessage: source.settings.awayMessage,
            firstMessageKey: key)
        try start.validate()
        return Decision([.enquiryOpened(enquiry, at: now, source: source)], effects: [.send(EnquiryCommand.open(start), to: enquiry.rawValue, of: EnquiryState.self)])
    }

    public mutating func apply(_ event: VisitorEvent) {
        switch event {
        case let .created(profile, tokenHash):
            self.profile = profile
            self.tokenHash = tokenHash
        case let .enquiryOpened(enquiry, _, source):
            openEnquiry = enquiry
            enquiryCount += 1
            self.source = source
        case let .served(_, staff):
            lastAgent = staff
        case let .enquiryClosed(enquiry, _):
            if openEnquiry == enquiry { openEnquiry = nil }
        }
    }

    /// The visitor themselves, admins and the node read a visitor.
    public func authorizeRead(by caller: Caller) throws(DomainError) {
        try caller.require(caller.isInternal || caller.isAdmin || caller == .visitor(id.rawValue), "read visitor \(id)")
    }
}

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
    /// The closed enquiry answered the drain: every message sent to it before came back.
    case drained(EnquiryID)
}

public enum VisitorEvent: Sendable, Equatable {
    case created(VisitorProfile, tokenHash: [UInt8])
    case enquiryOpened(EnquiryID, at: Timestamp, source: EnquirySource)
    case served(EnquiryID, by: StaffID)
    case enquiryClosed(EnquiryID, at: Timestamp)
    /// A message with this idempotency key went out (a retry of it is answered, not sent again).
    case wrote(key: String)
    /// Written while a closed enquiry drains: sent, in order, once every one has.
    case held(text: String, key: String?)
    /// The visitor asked a closed enquiry to drain (it answers after every bounce).
    case drainStarted(EnquiryID)
    case drained(EnquiryID)
}

/// A message held while the visitor's closed enquiry drains.
public struct HeldMessage: Sendable, Equatable {
    public var text: String
    public var key: String?
}

extension DomainError.Code {
    public static let visitorNotFound = DomainError.Code("visitor_not_found", .notFound)
    public static let messagesHeld = DomainError.Code("messages_held", .conflict)
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
    /// The idempotency keys of their last `rememberedKeys` messages, oldest first: a retry
    /// whose first try went out is not sent again, whichever enquiry is open by then.
    public internal(set) var recentKeys: [String] = []
    public static let rememberedKeys = 100
    /// Closed enquiries that messages sent to them may still be bouncing back from: new
    /// messages are held until every one answers its drain, so the next enquiry gets every
    /// message in the order written.
    public internal(set) var draining: [EnquiryID] = []
    public internal(set) var held: [HeldMessage] = []
    public static let maxHeld = 100

    public init(id: VisitorID) {
        self.id = id
        tokenHash = []
        enquiryCount = 0
    }

    public var exists: Bool { profile != nil }

    /// The id of the visitor's `number`th enquiry.
    public func enquiry(_ number: Int) -> EnquiryID { EnquiryID(unchecked: "\(id.rawValue)-\(number)") }

    /// The enquiry their last message is in: the open one, the next (which held messages
    /// open), or the last one; nil before their first message.
    public var latestEnquiry: EnquiryID? {
        if let openEnquiry { return openEnquiry }
        if !held.isEmpty { return enquiry(enquiryCount + 1) }
        return enquiryCount > 0 ? enquiry(enquiryCount) : nil
    }
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
            if let key, recentKeys.contains(key) { return Decision() }
            let remembered: [VisitorEvent] = key.map { [.wrote(key: $0)] } ?? []
            if !draining.isEmpty {
                guard held.count < Self.maxHeld else {
                    throw DomainError(.messagesHeld, "visitor \(id) has \(held.count) messages waiting for their closed enquiry; try again shortly")
                }
                guard profile != nil else { throw DomainError(.visitorNotFound, "no visitor \(id)") }
                // The drain asked again (it is answered each time): one lost on the way cannot hold them forever.
                return Decision([.held(text: text, key: key)] + remembered, effects: draining.map { .send(EnquiryCommand.drain, to: $0.rawValue, of: EnquiryState.self) })
            }
            let decision = try write(text, key: key, source: source ?? self.source, now: context.now)
            return Decision(decision.events + remembered, effects: decision.effects)
        case let .bounced(text, key, from):
            try caller.require(caller == .entity(.enquiry(from)), "bounce messages to visitor \(id)")
            var state = self
            var events: [VisitorEvent] = []
            // The close that bounced it left that enquiry first; noted here if it was not yet.
            var effects: [Effect] = []
            if openEnquiry == from {
                events += [.enquiryClosed(from, at: context.now), .drainStarted(from)]
                effects.append(.send(EnquiryCommand.drain, to: from.rawValue, of: EnquiryState.self))
                for event in events { state.apply(event) }
            }
            // Older than anything held: straight on, to the next enquiry.
            let decision = try state.write(text, key: key, source: source, now: context.now)
            return Decision(events + decision.events, effects: effects + decision.effects)
        case let .served(enquiry, staff):
            try caller.require(caller == .entity(.enquiry(enquiry)), "note who served visitor \(id)")
            return lastAgent == staff ? Decision() : Decision([.served(enquiry, by: staff)])
        case let .enquiryClosed(enquiry):
            try caller.require(caller == .entity(.enquiry(enquiry)), "close visitor \(id)'s enquiries")
            guard openEnquiry == enquiry else { return Decision() }
            return Decision(
                [.enquiryClosed(enquiry, at: context.now), .drainStarted(enquiry)], effects: [.send(EnquiryCommand.drain, to: enquiry.rawValue, of: EnquiryState.self)])
        case let .drained(enquiry):
            try caller.require(caller == .entity(.enquiry(enquiry)), "drain visitor \(id)'s enquiries")
            guard draining.contains(enquiry) else { return Decision() }
            var state = self
            var events: [VisitorEvent] = [.drained(enquiry)]
            var effects: [Effect] = []
            state.apply(events[0])
            guard state.draining.isEmpty else { return Decision(events) }
            // The last drain: what was held goes out in order (the first opens the next enquiry).
            for message in held {
                let decision = try state.write(message.text, key: message.key, source: source, now: context.now)
                for event in decision.events { state.apply(event) }
                events += decision.events
                effects += decision.effects
            }
            return Decision(events, effects: effects)
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
        case let .drainStarted(enquiry):
            if !draining.contains(enquiry) { draining.append(enquiry) }
        case let .held(text, key):
            held.append(HeldMessage(text: text, key: key))
        case let .drained(enquiry):
            draining.removeAll { $0 == enquiry }
            if draining.isEmpty { held = [] }
        case let .wrote(key):
            recentKeys.append(key)
            if recentKeys.count > Self.rememberedKeys { recentKeys.removeFirst(recentKeys.count - Self.rememberedKeys) }
        }
    }

    /// The visitor themselves, admins and the node read a visitor.
    public func authorizeRead(by caller: Caller) throws(DomainError) {
        try caller.require(caller.isInternal || caller.isAdmin || caller == .visitor(id.rawValue), "read visitor \(id)")
    }
}

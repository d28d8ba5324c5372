/// What a destination is: its name, its member staff in order, and its opening hours (none:
/// always open).
public struct DestinationProfile: Sendable, Equatable {
    public var name: String
    public var members: [StaffID]
    public var hours: BusinessHours?

    public init(name: String, members: [StaffID], hours: BusinessHours? = nil) {
        self.name = name
        self.members = members
        self.hours = hours
    }

    public static let maxMembers = 1_000

    public func validate() throws(DomainError) {
        guard (1...100).contains(name.trimmingWhitespace().unicodeScalars.count) else {
            throw DomainError(.invalidArgument, "a destination name has 1 to 100 characters")
        }
        guard members.count <= Self.maxMembers else { throw DomainError(.invalidArgument, "a destination has at most \(Self.maxMembers) members") }
        guard Set(members).count == members.count else { throw DomainError(.invalidArgument, "a staff member is named twice") }
        try hours?.validate()
    }
}

/// What an admin asks of a destination. `update` leaves nil fields as they are.
public enum DestinationCommand: Sendable, Equatable {
    case create(DestinationProfile)
    case update(name: String?, members: [StaffID]?, hours: HoursChange)
    case delete
}

/// A change to a destination's hours.
public enum HoursChange: Sendable, Equatable {
    case keep
    case set(BusinessHours)
    /// Always open.
    case clear
}

public enum DestinationEvent: Sendable, Equatable {
    case created(DestinationProfile, at: Timestamp)
    case updated(DestinationProfile, at: Timestamp)
    case deleted(at: Timestamp)
}

/// A destination: admin-managed, listed in `IndexState.destinations` with its whole profile
/// (which is what every node's routing board reads).
public struct DestinationState: Sendable, Equatable {
    public let id: DestinationID
    public private(set) var profile: DestinationProfile?
    public private(set) var createdAt: Timestamp?
    public private(set) var deleted: Bool

    public init(id: DestinationID, profile: DestinationProfile? = nil, createdAt: Timestamp? = nil, deleted: Bool = false) {
        self.id = id
        self.profile = profile
        self.createdAt = createdAt
        self.deleted = deleted
    }

    public var exists: Bool { profile != nil && !deleted }
}

extension IndexState {
    /// Every destination, summarized as its `DestinationProfile`.
    public static let destinations = "destinations"
}

extension DestinationState: EntityRules {
    public static var kind: EntityKind { .destination }

    public init(key: String) { self.init(id: DestinationID(unchecked: key)) }

    /// Admins manage destinations; every change is put in the listing (or removed from it).
    public func decide(_ command: DestinationCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<DestinationEvent> {
        try context.caller.require(context.caller.isAdmin, "manage destinations")
        let now = context.now
        switch command {
        case var .create(profile):
            guard self.profile == nil || deleted else {
                throw DomainError(.destinationAlreadyExists, "destination \(id) already exists")
            }
            profile.name = profile.name.trimmingWhitespace()
            try profile.validate()
            return Decision([.created(profile, at: now)], effects: [listing(profile)])
        case let .update(name, members, hours):
            guard var profile = self.profile, !deleted else { throw DomainError(.destinationNotFound, "no destination \(id)") }
            if let name { profile.name = name.trimmingWhitespace() }
            if let members { profile.members = members }
            switch hours {
            case .keep: break
            case let .set(value): profile.hours = value
            case .clear: profile.hours = nil
            }
            try profile.validate()
            guard profile != self.profile else { return Decision() }
            return Decision([.updated(profile, at: now)], effects: [listing(profile)])
        case .delete:
            guard exists else { throw DomainError(.destinationNotFound, "no destination \(id)") }
            return Decision(
                [.deleted(at: now)], effects: [.send(IndexCommand.remove(member: id.rawValue), to: IndexState.destinations, of: IndexState.self)])
        }
    }

    public mutating func apply(_ event: DestinationEvent) {
        switch event {
        case let .created(profile, at):
            self.profile = profile
            createdAt = at
            deleted = false
        case let .updated(profile, _):
            self.profile = profile
        case .deleted:
            deleted = true
        }
    }

    private func listing(_ profile: DestinationProfile) -> Effect {
        .send(IndexCommand.put(member: id.rawValue, summary: profile.encoded), to: IndexState.destinations, of: IndexState.self)
    }
}

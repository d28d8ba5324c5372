/// A room as an entity kind: its commands, events and state run on the generic entity actor.
/// What a room decides needs two things from outside its state: the room limits (node
/// configuration) and the messages a command is about (an edit, a recall, a reply, a
/// forward, a link preview), which the runtime looks up and hands in as `RoomInputs`.
extension RoomState: EntityRules, BinaryCodable {
    public typealias Command = RoomCommand
    public typealias Event = RoomEvent

    public static var kind: EntityKind { .room }

    public init(key: String) {
        self.init(id: RoomID(unchecked: key))
    }

    /// Decides with the default limits and no messages at hand (pure tests; the runtime
    /// decides through `decision(_:context:inputs:)`).
    public func decide(_ command: RoomCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<RoomEvent> {
        try decision(command, context: context, inputs: RoomInputs())
    }

    /// Decides `command` as `context.caller`: the events, and the notices they owe members as
    /// commands to their staff entities. A staff caller may act only as the staff member the
    /// command names; internal callers (the node, another entity) as anyone.
    public func decision(_ command: RoomCommand, context: DecisionContext, inputs: RoomInputs) throws(DomainError) -> Decision<RoomEvent> {
        try authorize(command, by: context.caller)
        let events = try decide(command, now: context.now, limits: inputs.limits, message: inputs.message)
        var effects = RoomNotices.effects(before: self, events: events)
        // A staff member writing in an enquiry room keeps the enquiry from closing as idle.
        if profile?.kind == .enquiry, events.contains(where: { $0.postedMessage?.author.isStaff == true }) {
            effects.append(.send(EnquiryCommand.touch, to: id.rawValue, of: EnquiryState.self))
        }
        return Decision(events, effects: effects)
    }

    /// Refuses `caller` `command`: a staff caller acts only as the staff member the command
    /// names; visitors and channels change no room (yet); the node and other entities may.
    public func authorize(_ command: RoomCommand, by caller: Caller) throws(DomainError) {
        switch caller {
        case let .staff(staff, _):
            guard let acting = command.actingStaff, acting == staff else {
                throw DomainError(.forbidden, "\(staff) may not act as \(command.actingStaff.map(\.rawValue) ?? "the node") in room \(id)")
            }
        case .entity, .system:
            break
        case let .visitor(visitor):
            // A visitor posts and reads as themselves, in the enquiry room they take part in.
            let member = VisitorID(unchecked: visitor).member
            let allowed: Bool =
                switch command {
                case let .post(post): post.author == member && post.forwarding == nil
                case let .markRead(_, by): by == member
                default: false
                }
            guard allowed, members[member] != nil else { throw DomainError(.forbidden, "\(caller) may not do that in room \(id)") }
        case .channel:
            throw DomainError(.forbidden, "\(caller) may not change room \(id)")
        }
    }

    /// Members read a room; the node and other entities read any.
    public func authorizeRead(by caller: Caller) throws(DomainError) {
        if caller.isInternal { return }
        guard exists else { throw DomainError(.roomNotFound, "room \(id) does not exist") }
        if case let .visitor(visitor) = caller {
            guard members[VisitorID(unchecked: visitor).member] != nil else { throw DomainError(.notAMember, "\(caller) does not take part in room \(id)") }
            return
        }
        guard let staff = caller.staff, canRead(staff) else {
            throw DomainError(.notAMember, "\(caller.staff.map(\.rawValue) ?? "\(caller)") is not a member of room \(id)")
        }
    }
}

/// What deciding a room command needs besides the room: its limits, and the messages the
/// command is about, as the room last decided them.
/// Made and used on the room's actor within one decision.
public struct RoomInputs {
    public var limits: RoomLimits
    public var message: (UInt64) -> Message?

    public init(limits: RoomLimits = RoomLimits(), message: @escaping (UInt64) -> Message? = { _ in nil }) {
        self.limits = limits
        self.message = message
    }
}

extension RoomCommand: BinaryCodable {}
extension RoomEvent: BinaryCodable {}
extension Message: BinaryCodable {}
extension FileAttachment: BinaryCodable {}

extension RoomCommand {
    /// The staff member the command acts as (nil for commands only the node gives: an
    /// enquiry's opening, link previews).
    public var actingStaff: StaffID? {
        switch self {
        case let .create(creation): creation.creator
        case let .post(post): post.author
        case let .edit(_, _, staff), let .recall(_, staff), let .markRead(_, staff), let .setMute(_, staff), let .join(staff),
            let .addMembers(_, staff), let .removeMember(_, staff), let .leave(staff), let .updateProfile(_, _, _, staff),
            let .setVisitorField(_, _, staff), let .setContact(_, staff):
            staff
        case .openEnquiry, .attachLinkPreviews, .setEnquiryOwner: nil
        }
    }
}

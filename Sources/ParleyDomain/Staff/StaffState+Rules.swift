extension StaffEvent: BinaryCodable {}
extension StaffCommand: BinaryCodable {}

extension StaffState: EntityRules {
    public static var kind: EntityKind { .staff }

    public init(key: String) { self.init(id: StaffID(unchecked: key)) }

    /// Who may do what to an account: admins create accounts; the member or an admin rotates
    /// its token; the member keeps their own shortcuts; only the outbox delivers notices.
    /// A new account is added to the staff listing (`IndexState.staff`).
    public func decide(_ command: StaffCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<StaffEvent> {
        let caller = context.caller
        switch command {
        case .create:
            try caller.require(caller.isAdmin, "create staff accounts")
        case .rotateToken:
            try caller.require(caller.isAdmin || caller.staff == id, "rotate \(id)'s token")
        case .deliver, .deliverAll:
            try caller.require(caller.isInternal, "deliver notices")
        case .setShortcut, .removeShortcut:
            try caller.require(caller.staff == id || caller == .system, "change \(id)'s shortcuts")
        case .setAvailability:
            try caller.require(caller.staff == id || caller.isAdmin, "set \(id)'s availability")
        case .setCapacity:
            try caller.require(caller.isAdmin, "set capacities")
        case .noteEnquiry:
            try caller.require(caller.isInternal, "note enquiries")
        }
        let events = try decide(command, now: context.now)
        guard case .create = command, !events.isEmpty else { return Decision(events) }
        var after = self
        for event in events { after.apply(event) }
        return Decision(events, effects: [after.listing])
    }

    /// The account's entry in the staff listing: its id and profile, no secret.
    public var listing: Effect {
        var writer = BinaryWriter()
        profile?.encode(into: &writer)
        return .send(IndexCommand.put(member: id.rawValue, summary: writer.bytes), to: IndexState.staff, of: IndexState.self)
    }
}

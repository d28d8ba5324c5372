extension ChannelEvent: BinaryCodable {}
extension ChannelCommand: BinaryCodable {}

extension ChannelState: EntityRules {
    public static var kind: EntityKind { .channel }

    public init(key: String) { self.init(id: ChannelID(unchecked: key)) }

    /// Admins manage channels; anyone signed in reads them. Every change is sent on to the
    /// channel listing (`IndexState.channels`), which lists channels without asking every node.
    public func decide(_ command: ChannelCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<ChannelEvent> {
        try context.caller.require(context.caller.isAdmin, "manage channels")
        let events = try decide(command, now: context.now)
        guard !events.isEmpty else { return Decision() }
        var after = self
        for event in events { after.apply(event) }
        return Decision(events, effects: [.send(IndexCommand.put(member: id.rawValue, summary: after.encoded), to: IndexState.channels, of: IndexState.self)])
    }
}

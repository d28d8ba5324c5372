/// Who takes part in a room besides staff. A room's members are keyed by `StaffID`; a
/// visitor of an enquiry room takes part as `visitor:<visitor id>`, and the node's own notices
/// (welcome and away messages, enquiry events) are written as `parley:notice`. Both hold a
/// colon, which no staff id may (`Identifier`), so neither can be mistaken for a staff member.
extension VisitorID {
    /// The visitor as a room member and message author.
    public var member: StaffID { StaffID(unchecked: "visitor:" + rawValue) }
}

extension StaffID {
    /// The author of the node's own notices in enquiry rooms.
    public static let notices = StaffID(unchecked: "parley:notice")

    /// The visitor this member is, if a visitor.
    public var visitor: VisitorID? {
        rawValue.hasPrefix("visitor:") ? VisitorID(unchecked: String(rawValue.dropFirst("visitor:".count))) : nil
    }

    /// Whether this is a staff member (not a visitor, not the node's notices).
    public var isStaff: Bool { !rawValue.utf8.contains(UInt8(ascii: ":")) }

    /// Who wrote a message, as the API names it: staff, visitor or system.
    public var senderKind: String { isStaff ? "staff" : (visitor != nil ? "visitor" : "system") }
}

extension RoomEvent {
    /// The message this event posted, if it posted one.
    public var postedMessage: Message? {
        if case let .messagePosted(message) = self { return message }
        return nil
    }
}

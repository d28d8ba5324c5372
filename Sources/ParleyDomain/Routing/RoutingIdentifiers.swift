/// A destination enquiries are routed to: a named group of staff (CINNOX's service groups
/// and tags).
public struct DestinationID: Identifier {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// One enquiry: a visitor's conversation from their first message until it is closed.
public struct EnquiryID: Identifier {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// An anonymous visitor of a website or weblink, or a channel's customer.
public struct VisitorID: Identifier {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

extension EntityID {
    public static func enquiry(_ id: EnquiryID) -> EntityID { EntityID(kind: .enquiry, key: id.rawValue) }
    public static func destination(_ id: DestinationID) -> EntityID { EntityID(kind: .destination, key: id.rawValue) }
}

extension EntityKind {
    /// Admin-managed groups of staff enquiries are routed to.
    public static let destination = EntityKind(rawValue: 7, name: "destination")
}

extension DomainError.Code {
    public static let destinationNotFound = DomainError.Code("destination_not_found", .notFound)
    public static let destinationAlreadyExists = DomainError.Code("destination_already_exists", .conflict)
    public static let enquiryNotFound = DomainError.Code("enquiry_not_found", .notFound)
    public static let enquiryAlreadyExists = DomainError.Code("enquiry_already_exists", .conflict)
    /// Another staff member accepted the enquiry first.
    public static let enquiryTaken = DomainError.Code("enquiry_taken", .conflict)
    /// The enquiry is not (or no longer) offered to the caller.
    public static let enquiryNotOffered = DomainError.Code("enquiry_not_offered", .forbidden)
    public static let enquiryClosed = DomainError.Code("enquiry_closed", .conflict)
    /// Only the staff member owning the enquiry (or an admin) may do that.
    public static let notTheOwner = DomainError.Code("not_the_owner", .forbidden)
    /// A transfer is already waiting for its target to accept.
    public static let transferPending = DomainError.Code("transfer_pending", .conflict)
    /// The transfer's target cannot be offered enquiries now (not ACTIVE, offline or full).
    public static let staffNotOfferable = DomainError.Code("staff_not_offerable", .conflict)
    public static let invalidTimeZone = DomainError.Code("invalid_time_zone", .invalid)
    public static let invalidRouting = DomainError.Code("invalid_routing", .invalid)
    /// The staff member holds as many open enquiries as their capacity allows.
    public static let capacityReached = DomainError.Code("capacity_reached", .conflict)
}

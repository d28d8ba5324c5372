import ParleyDomain
import ParleyRuntime

/// An enquiry offered to a staff member, as the Open Enquiry panel and `enquiry.offered` show it.
struct EnquiryOfferResponse: Encodable {
    let enquiryID: String
    let sourceName: String
    let visitorName: String
    let firstMessage: String
    let destinationID: String?
    let offeredAt: String
    let openedAt: String
    let transferFrom: String?
    /// Milliseconds since the visitor wrote first, when answered over REST.
    let waitingMs: Int64?

    enum CodingKeys: String, CodingKey {
        case enquiryID = "enquiry_id"
        case sourceName = "source_name"
        case visitorName = "visitor_name"
        case firstMessage = "first_message"
        case destinationID = "destination_id"
        case offeredAt = "offered_at"
        case openedAt = "opened_at"
        case transferFrom = "transfer_from"
        case waitingMs = "waiting_ms"
    }

    init(_ note: EnquiryOfferNote, now: Timestamp? = nil) {
        enquiryID = note.enquiry.rawValue
        sourceName = note.sourceName
        visitorName = note.visitorName
        firstMessage = note.firstMessage
        destinationID = note.destination?.rawValue
        offeredAt = RoomResponse.format(note.offeredAt)
        openedAt = RoomResponse.format(note.openedAt)
        transferFrom = note.transferFrom?.rawValue
        waitingMs = now.map { max(0, $0.milliseconds - note.openedAt.milliseconds) }
    }
}

/// A live message about one of the staff member's enquiries: `enquiry.offered` (with the
/// offer), `enquiry.taken` (another accepted it first), `enquiry.withdrawn` (with `reason`:
/// lapsed, declined, closed, moved), `enquiry.assigned`, `enquiry.released`.
struct EnquiryNoticeMessage: Encodable {
    let type: String
    let enquiryID: String
    let enquiry: EnquiryOfferResponse?
    let reason: String?

    enum CodingKeys: String, CodingKey {
        case type, enquiry, reason
        case enquiryID = "enquiry_id"
    }

    init(_ notice: EnquiryNotice) {
        switch notice {
        case let .offered(note):
            (type, enquiryID, enquiry, reason) = ("enquiry.offered", note.enquiry.rawValue, EnquiryOfferResponse(note), nil)
        case let .offerEnded(id, end):
            (type, enquiryID, enquiry, reason) = (end == .taken ? "enquiry.taken" : "enquiry.withdrawn", id.rawValue, nil, end.name)
        case let .assigned(id):
            (type, enquiryID, enquiry, reason) = ("enquiry.assigned", id.rawValue, nil, nil)
        case let .released(id):
            (type, enquiryID, enquiry, reason) = ("enquiry.released", id.rawValue, nil, nil)
        }
    }
}

/// One enquiry, as its owner, offerees, admins and its visitor read it.
struct EnquiryResponse: Encodable {
    let id: String
    let status: String
    let sourceID: String
    let sourceName: String
    let visitorID: String
    let visitorName: String
    let firstMessage: String
    let roomID: String
    let owner: String?
    let destinationID: String?
    let offeredTo: [String]
    let transferFrom: String?
    let queuedAt: String?
    let missed: UInt32
    let servedBy: [String]
    let openedAt: String
    let acceptedAt: String?
    let closedAt: String?
    let closedBy: String?

    enum CodingKeys: String, CodingKey {
        case id, status, owner, missed
        case sourceID = "source_id"
        case sourceName = "source_name"
        case visitorID = "visitor_id"
        case visitorName = "visitor_name"
        case firstMessage = "first_message"
        case roomID = "room_id"
        case destinationID = "destination_id"
        case offeredTo = "offered_to"
        case transferFrom = "transfer_from"
        case queuedAt = "queued_at"
        case servedBy = "served_by"
        case openedAt = "opened_at"
        case acceptedAt = "accepted_at"
        case closedAt = "closed_at"
        case closedBy = "closed_by"
    }

    init(_ state: EnquiryState) {
        id = state.id.rawValue
        status = state.status.name
        sourceID = state.start?.source.rawValue ?? ""
        sourceName = state.start?.sourceName ?? ""
        visitorID = state.start?.visitor.rawValue ?? ""
        visitorName = state.start?.visitorName ?? ""
        firstMessage = state.start?.firstMessage ?? ""
        roomID = state.room.rawValue
        owner = state.owner?.rawValue
        destinationID = state.destination?.rawValue
        offeredTo = state.offer?.staff.map(\.rawValue) ?? []
        transferFrom = state.offer?.transferFrom?.rawValue
        queuedAt = state.queuedAt.map(RoomResponse.format)
        missed = state.missed
        servedBy = state.servedBy.map(\.rawValue)
        openedAt = state.openedAt.map(RoomResponse.format) ?? ""
        acceptedAt = state.acceptedAt.map(RoomResponse.format)
        closedAt = state.closedAt.map(RoomResponse.format)
        closedBy = state.closedBy?.rawValue
    }
}

/// A staff member's availability and load.
struct AvailabilityResponse: Encodable {
    let staffID: String
    let availability: String
    let capacity: Int
    let openEnquiries: Int

    enum CodingKeys: String, CodingKey {
        case availability, capacity
        case staffID = "staff_id"
        case openEnquiries = "open_enquiries"
    }

    init(_ account: StaffState) {
        staffID = account.id.rawValue
        availability = account.availability.name
        capacity = account.capacity
        openEnquiries = account.enquiries.count
    }
}

/// `GET /v1/me/enquiries`: the Open Enquiry panel (offered to me, oldest first) and the
/// enquiries I own.
struct MyEnquiriesResponse: Encodable {
    let offered: [EnquiryOfferResponse]
    let open: [String]
}

/// What one enquiry decision tells staff of its offers, as one delivery to the
/// `EnquiryState.noticeSink` sink rather than a command to each staff member's entity: the
/// node shows them on the staff members' sessions and keeps the open offers on every node's
/// routing board (the Open Enquiry panel). Soft by design: an offer whose notice is lost lapses
/// and is made again, and accepting checks the enquiry's own offer, never this.
public struct EnquiryNotices: Sendable, Equatable {
    /// One staff member's notice.
    public struct Addressed: Sendable, Equatable {
        public let staff: StaffID
        public let notice: EnquiryNotice

        public init(staff: StaffID, notice: EnquiryNotice) {
            self.staff = staff
            self.notice = notice
        }
    }

    public var notices: [Addressed]

    public init(_ notices: [Addressed]) { self.notices = notices }

    /// At most this many in one delivery (offerees of one offer are a destination's members).
    public static let maxNotices = 10_000
}

extension EnquiryNotices: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(notices.count))
        for addressed in notices {
            writer.write(addressed.staff.rawValue)
            addressed.notice.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryNotices {
        let count = try reader.readCount(atMost: maxNotices, of: "enquiry notices")
        var notices: [Addressed] = []
        for _ in 0..<count {
            let staff = StaffID(unchecked: try reader.readString())
            notices.append(Addressed(staff: staff, notice: try EnquiryNotice.decode(from: &reader)))
        }
        return EnquiryNotices(notices)
    }
}

extension EnquiryState {
    /// The delivery sink enquiries' offer notices go to.
    public static let noticeSink = "enquiry-notices"

    /// The offer ending for each of `staff`.
    static func offerEnded(_ id: EnquiryID, for staff: [StaffID], _ end: OfferEnd) -> [EnquiryNotices.Addressed] {
        staff.map { EnquiryNotices.Addressed(staff: $0, notice: .offerEnded(id, end)) }
    }
}

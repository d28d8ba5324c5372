/// One enquiry as the Enquiry Overview lists it: kept in the index of the UTC day it opened
/// (`enquiries.<yyyy-mm-dd>`), put again by every decision that changes it.
public struct EnquirySummary: Sendable, Equatable {
    public var status: EnquiryStatus
    public var source: ChannelID
    public var sourceName: String
    public var visitorName: String
    public var destination: DestinationID?
    public var owner: StaffID?
    public var servedBy: [StaffID]
    public var missed: UInt32
    public var openedAt: Timestamp
    public var acceptedAt: Timestamp?
    public var closedAt: Timestamp?

    public init(_ state: EnquiryState) {
        status = state.status
        source = state.start?.source ?? ChannelID(unchecked: "-")
        sourceName = state.start?.sourceName ?? ""
        visitorName = state.start?.visitorName ?? ""
        destination = state.destination
        owner = state.owner
        servedBy = state.servedBy
        missed = state.missed
        openedAt = state.openedAt ?? Timestamp(milliseconds: 0)
        acceptedAt = state.firstAcceptedAt
        closedAt = state.closedAt
    }

    /// From the visitor's first message to the first accept.
    public var waitingMilliseconds: Int64? { acceptedAt.map { $0.milliseconds - openedAt.milliseconds } }
    /// From the first accept to the close.
    public var handlingMilliseconds: Int64? {
        guard let acceptedAt, let closedAt else { return nil }
        return closedAt.milliseconds - acceptedAt.milliseconds
    }

    /// The overview index of the day `instant` falls on, in UTC.
    public static func index(day instant: Timestamp) -> String { "enquiries." + instant.utcDay }
}

extension EnquirySummary: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(status.rawValue)
        writer.write(source.rawValue)
        writer.write(sourceName)
        writer.write(visitorName)
        writer.write(destination?.rawValue)
        writer.write(owner?.rawValue)
        writer.write(servedBy.map(\.rawValue))
        writer.writeVarint(UInt64(missed))
        writer.write(openedAt.milliseconds)
        for time in [acceptedAt, closedAt] { writer.writeOptionalVarint(time.map { UInt64(bitPattern: $0.milliseconds) }) }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquirySummary {
        var summary = EnquirySummary(EnquiryState(id: EnquiryID(unchecked: "-")))
        summary.status = try reader.read(EnquiryStatus.self, "enquiry status")
        summary.source = ChannelID(unchecked: try reader.readString())
        summary.sourceName = try reader.readString()
        summary.visitorName = try reader.readString()
        summary.destination = try reader.readOptionalString().map(DestinationID.init(unchecked:))
        summary.owner = try reader.readOptionalString().map(StaffID.init(unchecked:))
        summary.servedBy = try reader.readStrings().map(StaffID.init(unchecked:))
        summary.missed = UInt32(truncatingIfNeeded: try reader.readVarint())
        summary.openedAt = Timestamp(milliseconds: try reader.readInt64())
        summary.acceptedAt = try reader.readOptionalVarint().map { Timestamp(milliseconds: Int64(bitPattern: $0)) }
        summary.closedAt = try reader.readOptionalVarint().map { Timestamp(milliseconds: Int64(bitPattern: $0)) }
        return summary
    }
}

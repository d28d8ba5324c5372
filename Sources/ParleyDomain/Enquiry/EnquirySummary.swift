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

extension Timestamp {
    /// `yyyy-MM-dd` of the instant in UTC (civil-from-days, years 0 to 9999).
    public var utcDay: String {
        let days = (milliseconds >= 0 ? milliseconds : milliseconds - 86_399_999) / 86_400_000
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func padded(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2)
    }
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

/// What the Open Enquiry panel shows of an enquiry offered to a staff member.
public struct EnquiryOfferNote: Sendable, Equatable {
    public var enquiry: EnquiryID
    public var sourceName: String
    public var visitorName: String
    /// The first message, cut to 200 characters.
    public var firstMessage: String
    public var destination: DestinationID?
    public var offeredAt: Timestamp
    /// When the visitor wrote first (the waiting time runs from here).
    public var openedAt: Timestamp
    /// The owner handing it over, for a transfer.
    public var transferFrom: StaffID?

    public init(
        enquiry: EnquiryID, sourceName: String, visitorName: String, firstMessage: String, destination: DestinationID?, offeredAt: Timestamp,
        openedAt: Timestamp, transferFrom: StaffID? = nil
    ) {
        self.enquiry = enquiry
        self.sourceName = sourceName
        self.visitorName = visitorName
        self.firstMessage = firstMessage
        self.destination = destination
        self.offeredAt = offeredAt
        self.openedAt = openedAt
        self.transferFrom = transferFrom
    }
}

/// Why an offer left a staff member's panel.
public enum OfferEnd: UInt8, Sendable, CaseIterable {
    /// Another staff member accepted it.
    case taken = 1
    /// Nobody accepted in time.
    case lapsed = 2
    /// This staff member declined it.
    case declined = 3
    /// It was closed.
    case closed = 4
    /// An admin moved it elsewhere.
    case moved = 5

    public var name: String { ["taken", "lapsed", "declined", "closed", "moved"][Int(rawValue) - 1] }
}

/// A change to a staff member's enquiries, as their sessions are told of it.
public enum EnquiryNotice: Sendable, Equatable {
    case offered(EnquiryOfferNote)
    case offerEnded(EnquiryID, OfferEnd)
    /// They own it now.
    case assigned(EnquiryID)
    /// They no longer own it (closed, or transferred away).
    case released(EnquiryID)
}

extension EnquiryOfferNote: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(enquiry.rawValue)
        writer.write(sourceName)
        writer.write(visitorName)
        writer.write(firstMessage)
        writer.write(destination?.rawValue)
        writer.write(offeredAt.milliseconds)
        writer.write(openedAt.milliseconds)
        writer.write(transferFrom?.rawValue)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryOfferNote {
        EnquiryOfferNote(
            enquiry: EnquiryID(unchecked: try reader.readString()), sourceName: try reader.readString(), visitorName: try reader.readString(),
            firstMessage: try reader.readString(), destination: try reader.readOptionalString().map(DestinationID.init(unchecked:)),
            offeredAt: Timestamp(milliseconds: try reader.readInt64()), openedAt: Timestamp(milliseconds: try reader.readInt64()),
            transferFrom: try reader.readOptionalString().map(StaffID.init(unchecked:)))
    }
}

extension EnquiryNotice: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .offered(note):
            writer.write(UInt8(1))
            note.encode(into: &writer)
        case let .offerEnded(id, end):
            writer.write(UInt8(2))
            writer.write(id.rawValue)
            writer.write(end.rawValue)
        case let .assigned(id):
            writer.write(UInt8(3))
            writer.write(id.rawValue)
        case let .released(id):
            writer.write(UInt8(4))
            writer.write(id.rawValue)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryNotice {
        let tag = try reader.readUInt8()
        switch tag {
        case 1: return .offered(try EnquiryOfferNote.decode(from: &reader))
        case 2: return .offerEnded(EnquiryID(unchecked: try reader.readString()), try reader.read(OfferEnd.self, "offer end"))
        case 3: return .assigned(EnquiryID(unchecked: try reader.readString()))
        case 4: return .released(EnquiryID(unchecked: try reader.readString()))
        default: throw DecodingError("unknown enquiry notice \(tag)")
        }
    }
}

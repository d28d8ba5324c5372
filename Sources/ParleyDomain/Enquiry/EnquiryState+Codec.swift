/// The binary form of enquiries: commands travel between nodes, events stay in the log. Tags
/// are forever: add, never renumber.
extension EnquiryStart: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(source.rawValue)
        writer.write(sourceName)
        writer.write(visitor.rawValue)
        writer.write(visitorName)
        writer.write(firstMessage)
        information.encode(into: &writer)
        writer.write(rule != nil)
        rule?.encode(into: &writer)
        writer.write(lastAgent?.rawValue)
        writer.writeVarint(UInt64(max(0, offerTimeoutSeconds)))
        writer.writeVarint(UInt64(max(0, idleCloseMinutes)))
        writer.write(welcomeMessage)
        writer.write(awayMessage)
        writer.write(firstMessageKey)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryStart {
        let source = ChannelID(unchecked: try reader.readString())
        let sourceName = try reader.readString()
        let visitor = VisitorID(unchecked: try reader.readString())
        let visitorName = try reader.readString()
        let first = try reader.readString()
        let information = try RoomInformation.decode(from: &reader)
        let rule = try reader.readBool() ? try RoutingRule.decode(from: &reader) : nil
        let lastAgent = try reader.readOptionalString().map(StaffID.init(unchecked:))
        return EnquiryStart(
            source: source, sourceName: sourceName, visitor: visitor, visitorName: visitorName, firstMessage: first, information: information, rule: rule,
            lastAgent: lastAgent, offerTimeoutSeconds: try reader.readCount(atMost: 1_000_000, of: "seconds"),
            idleCloseMinutes: try reader.readCount(atMost: 1_000_000, of: "minutes"), welcomeMessage: try reader.readOptionalString(),
            awayMessage: try reader.readOptionalString(), firstMessageKey: try reader.readOptionalString())
    }
}

extension EnquiryOffer: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(destination?.rawValue)
        writer.write(staff.map(\.rawValue))
        writer.writeVarint(UInt64(round))
        writer.write(at.milliseconds)
        writer.write(transferFrom?.rawValue)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryOffer {
        let destination = try reader.readOptionalString().map(DestinationID.init(unchecked:))
        let staff = try reader.readStrings().map(StaffID.init(unchecked:))
        let round = try reader.readVarint()
        guard round <= UInt64(UInt32.max) else { throw DecodingError("offer round \(round)") }
        return EnquiryOffer(
            destination: destination, staff: staff, round: UInt32(round), at: Timestamp(milliseconds: try reader.readInt64()),
            transferFrom: try reader.readOptionalString().map(StaffID.init(unchecked:)))
    }
}

extension EnquiryCommand: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .open(start):
            writer.write(UInt8(1))
            start.encode(into: &writer)
        case .route: writer.write(UInt8(2))
        case let .accept(staff):
            writer.write(UInt8(3))
            writer.write(staff.rawValue)
        case let .decline(staff):
            writer.write(UInt8(4))
            writer.write(staff.rawValue)
        case let .transfer(target, by):
            writer.write(UInt8(5))
            switch target {
            case let .staff(staff):
                writer.write(UInt8(1))
                writer.write(staff.rawValue)
            case let .destination(destination):
                writer.write(UInt8(2))
                writer.write(destination.rawValue)
            }
            writer.write(by.rawValue)
        case let .close(by):
            writer.write(UInt8(6))
            writer.write(by?.rawValue)
        case .offerTimedOut: writer.write(UInt8(7))
        case .idleTimedOut: writer.write(UInt8(8))
        case .touch: writer.write(UInt8(9))
        case let .visitorMessage(text, key):
            writer.write(UInt8(10))
            writer.write(text)
            writer.write(key)
        case .drain: writer.write(UInt8(11))
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryCommand {
        let tag = try reader.readUInt8()
        switch tag {
        case 1: return .open(try EnquiryStart.decode(from: &reader))
        case 2: return .route
        case 3: return .accept(StaffID(unchecked: try reader.readString()))
        case 4: return .decline(StaffID(unchecked: try reader.readString()))
        case 5:
            let kind = try reader.readUInt8()
            let raw = try reader.readString()
            let target: TransferTarget
            switch kind {
            case 1: target = .staff(StaffID(unchecked: raw))
            case 2: target = .destination(DestinationID(unchecked: raw))
            default: throw DecodingError("unknown transfer target \(kind)")
            }
            return .transfer(target, by: StaffID(unchecked: try reader.readString()))
        case 6: return .close(by: try reader.readOptionalString().map(StaffID.init(unchecked:)))
        case 7: return .offerTimedOut
        case 8: return .idleTimedOut
        case 9: return .touch
        case 10:
            let text = try reader.readString()
            return .visitorMessage(text: text, idempotencyKey: try reader.readOptionalString())
        case 11: return .drain
        default: throw DecodingError("unknown enquiry command \(tag)")
        }
    }
}

extension EnquiryEvent: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .opened(start, at):
            writer.write(UInt8(1))
            start.encode(into: &writer)
            writer.write(at.milliseconds)
        case let .offered(offer):
            writer.write(UInt8(2))
            offer.encode(into: &writer)
        case let .queued(destination, at):
            writer.write(UInt8(3))
            writer.write(destination?.rawValue)
            writer.write(at.milliseconds)
        case let .awaySent(at):
            writer.write(UInt8(4))
            writer.write(at.milliseconds)
        case let .accepted(staff, at, from):
            writer.write(UInt8(5))
            writer.write(staff.rawValue)
            writer.write(at.milliseconds)
            writer.write(from?.rawValue)
        case let .declined(staff, at):
            writer.write(UInt8(6))
            writer.write(staff.rawValue)
            writer.write(at.milliseconds)
        case let .offerLapsed(round, at):
            writer.write(UInt8(7))
            writer.writeVarint(UInt64(round))
            writer.write(at.milliseconds)
        case let .closed(by, at):
            writer.write(UInt8(8))
            writer.write(by?.rawValue)
            writer.write(at.milliseconds)
        case let .offerWithdrawn(round, at):
            writer.write(UInt8(9))
            writer.writeVarint(UInt64(round))
            writer.write(at.milliseconds)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryEvent {
        let tag = try reader.readUInt8()
        switch tag {
        case 1:
            let start = try EnquiryStart.decode(from: &reader)
            return .opened(start, at: Timestamp(milliseconds: try reader.readInt64()))
        case 2: return .offered(try EnquiryOffer.decode(from: &reader))
        case 3:
            let destination = try reader.readOptionalString().map(DestinationID.init(unchecked:))
            return .queued(destination: destination, at: Timestamp(milliseconds: try reader.readInt64()))
        case 4: return .awaySent(at: Timestamp(milliseconds: try reader.readInt64()))
        case 5:
            let staff = StaffID(unchecked: try reader.readString())
            let at = Timestamp(milliseconds: try reader.readInt64())
            return .accepted(staff, at: at, from: try reader.readOptionalString().map(StaffID.init(unchecked:)))
        case 6:
            let staff = StaffID(unchecked: try reader.readString())
            return .declined(staff, at: Timestamp(milliseconds: try reader.readInt64()))
        case 7:
            let round = try reader.readVarint()
            guard round <= UInt64(UInt32.max) else { throw DecodingError("offer round \(round)") }
            return .offerLapsed(round: UInt32(round), at: Timestamp(milliseconds: try reader.readInt64()))
        case 8:
            let by = try reader.readOptionalString().map(StaffID.init(unchecked:))
            return .closed(by: by, at: Timestamp(milliseconds: try reader.readInt64()))
        case 9:
            let round = try reader.readVarint()
            guard round <= UInt64(UInt32.max) else { throw DecodingError("offer round \(round)") }
            return .offerWithdrawn(round: UInt32(round), at: Timestamp(milliseconds: try reader.readInt64()))
        default: throw DecodingError("unknown enquiry event \(tag)")
        }
    }
}

extension EnquiryState: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id.rawValue)
        writer.write(start != nil)
        start?.encode(into: &writer)
        writer.write(status.rawValue)
        writer.write(owner?.rawValue)
        writer.write(offer != nil)
        offer?.encode(into: &writer)
        writer.write(queueDestination?.rawValue)
        writer.write(destination?.rawValue)
        writer.write(skipDestinations.map(\.rawValue).sorted())
        writer.write(skipStaff.map(\.rawValue).sorted())
        writer.writeVarint(UInt64(round))
        writer.writeVarint(UInt64(missed))
        writer.write(awaySent)
        writer.write(servedBy.map(\.rawValue))
        writer.write(closedBy?.rawValue)
        for time in [openedAt, acceptedAt, queuedAt, closedAt, firstAcceptedAt] { writer.writeOptionalVarint(time.map { UInt64(bitPattern: $0.milliseconds) }) }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquiryState {
        var state = EnquiryState(id: EnquiryID(unchecked: try reader.readString()))
        state.start = try reader.readBool() ? try EnquiryStart.decode(from: &reader) : nil
        state.status = try reader.read(EnquiryStatus.self, "enquiry status")
        state.owner = try reader.readOptionalString().map(StaffID.init(unchecked:))
        state.offer = try reader.readBool() ? try EnquiryOffer.decode(from: &reader) : nil
        state.queueDestination = try reader.readOptionalString().map(DestinationID.init(unchecked:))
        state.destination = try reader.readOptionalString().map(DestinationID.init(unchecked:))
        state.skipDestinations = Set(try reader.readStrings().map(DestinationID.init(unchecked:)))
        state.skipStaff = Set(try reader.readStrings().map(StaffID.init(unchecked:)))
        state.round = UInt32(truncatingIfNeeded: try reader.readVarint())
        state.missed = UInt32(truncatingIfNeeded: try reader.readVarint())
        state.awaySent = try reader.readBool()
        state.servedBy = try reader.readStrings().map(StaffID.init(unchecked:))
        state.closedBy = try reader.readOptionalString().map(StaffID.init(unchecked:))
        var times: [Timestamp?] = []
        for _ in 0..<5 { times.append(try reader.readOptionalVarint().map { Timestamp(milliseconds: Int64(bitPattern: $0)) }) }
        (state.openedAt, state.acceptedAt, state.queuedAt, state.closedAt, state.firstAcceptedAt) = (times[0], times[1], times[2], times[3], times[4])
        return state
    }
}

extension VisitorCommand: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .create(name, email, source, information, tokenHash):
            writer.write(UInt8(1))
            writer.write(name)
            writer.write(email)
            writer.write(source.rawValue)
            information.encode(into: &writer)
            writer.write(bytes: tokenHash)
        case let .write(text, source, key):
            writer.write(UInt8(2))
            writer.write(text)
            writer.write(source != nil)
            source?.encode(into: &writer)
            writer.write(key)
        case let .bounced(text, key, from):
            writer.write(UInt8(5))
            writer.write(text)
            writer.write(key)
            writer.write(from.rawValue)
        case let .served(enquiry, staff):
            writer.write(UInt8(3))
            writer.write(enquiry.rawValue)
            writer.write(staff.rawValue)
        case let .enquiryClosed(enquiry):
            writer.write(UInt8(4))
            writer.write(enquiry.rawValue)
        case let .drained(enquiry):
            writer.write(UInt8(6))
            writer.write(enquiry.rawValue)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> VisitorCommand {
        let tag = try reader.readUInt8()
        switch tag {
        case 1:
            let name = try reader.readString()
            let email = try reader.readOptionalString()
            let source = ChannelID(unchecked: try reader.readString())
            let information = try RoomInformation.decode(from: &reader)
            return .create(name: name, email: email, source: source, information: information, tokenHash: try reader.readBytes())
        case 2:
            let text = try reader.readString()
            let source = try reader.readBool() ? try EnquirySource.decode(from: &reader) : nil
            return .write(text: text, source: source, idempotencyKey: try reader.readOptionalString())
        case 5:
            let text = try reader.readString()
            let key = try reader.readOptionalString()
            return .bounced(text: text, idempotencyKey: key, from: EnquiryID(unchecked: try reader.readString()))
        case 3:
            let enquiry = EnquiryID(unchecked: try reader.readString())
            return .served(enquiry, by: StaffID(unchecked: try reader.readString()))
        case 4: return .enquiryClosed(EnquiryID(unchecked: try reader.readString()))
        case 6: return .drained(EnquiryID(unchecked: try reader.readString()))
        default: throw DecodingError("unknown visitor command \(tag)")
        }
    }
}

extension VisitorProfile: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(source.rawValue)
        writer.write(name)
        writer.write(email)
        information.encode(into: &writer)
        writer.write(createdAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> VisitorProfile {
        let source = ChannelID(unchecked: try reader.readString())
        let name = try reader.readString()
        let email = try reader.readOptionalString()
        let information = try RoomInformation.decode(from: &reader)
        return VisitorProfile(source: source, name: name, email: email, information: information, createdAt: Timestamp(milliseconds: try reader.readInt64()))
    }
}

extension VisitorEvent: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile, tokenHash):
            writer.write(UInt8(1))
            profile.encode(into: &writer)
            writer.write(bytes: tokenHash)
        case let .enquiryOpened(enquiry, at, source):
            writer.write(UInt8(2))
            writer.write(enquiry.rawValue)
            writer.write(at.milliseconds)
            source.encode(into: &writer)
        case let .served(enquiry, staff):
            writer.write(UInt8(3))
            writer.write(enquiry.rawValue)
            writer.write(staff.rawValue)
        case let .enquiryClosed(enquiry, at):
            writer.write(UInt8(4))
            writer.write(enquiry.rawValue)
            writer.write(at.milliseconds)
        case let .wrote(key):
            writer.write(UInt8(5))
            writer.write(key)
        case let .held(text, key):
            writer.write(UInt8(6))
            writer.write(text)
            writer.write(key)
        case let .drained(enquiry):
            writer.write(UInt8(7))
            writer.write(enquiry.rawValue)
        case let .drainStarted(enquiry):
            writer.write(UInt8(8))
            writer.write(enquiry.rawValue)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> VisitorEvent {
        let tag = try reader.readUInt8()
        switch tag {
        case 1:
            let profile = try VisitorProfile.decode(from: &reader)
            return .created(profile, tokenHash: try reader.readBytes())
        case 2:
            let enquiry = EnquiryID(unchecked: try reader.readString())
            let at = Timestamp(milliseconds: try reader.readInt64())
            return .enquiryOpened(enquiry, at: at, source: try EnquirySource.decode(from: &reader))
        case 3:
            let enquiry = EnquiryID(unchecked: try reader.readString())
            return .served(enquiry, by: StaffID(unchecked: try reader.readString()))
        case 4:
            let enquiry = EnquiryID(unchecked: try reader.readString())
            return .enquiryClosed(enquiry, at: Timestamp(milliseconds: try reader.readInt64()))
        case 5: return .wrote(key: try reader.readString())
        case 6:
            let text = try reader.readString()
            return .held(text: text, key: try reader.readOptionalString())
        case 7: return .drained(EnquiryID(unchecked: try reader.readString()))
        case 8: return .drainStarted(EnquiryID(unchecked: try reader.readString()))
        default: throw DecodingError("unknown visitor event \(tag)")
        }
    }
}

extension VisitorState: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id.rawValue)
        writer.write(profile != nil)
        profile?.encode(into: &writer)
        writer.write(bytes: tokenHash)
        writer.write(openEnquiry?.rawValue)
        writer.writeVarint(UInt64(enquiryCount))
        writer.write(lastAgent?.rawValue)
        writer.write(source != nil)
        source?.encode(into: &writer)
        writer.writeVarint(UInt64(recentKeys.count))
        for key in recentKeys { writer.write(key) }
        writer.writeVarint(UInt64(draining.count))
        for enquiry in draining { writer.write(enquiry.rawValue) }
        writer.writeVarint(UInt64(held.count))
        for message in held {
            writer.write(message.text)
            writer.write(message.key)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> VisitorState {
        var state = VisitorState(id: VisitorID(unchecked: try reader.readString()))
        state.profile = try reader.readBool() ? try VisitorProfile.decode(from: &reader) : nil
        state.tokenHash = try reader.readBytes()
        state.openEnquiry = try reader.readOptionalString().map(EnquiryID.init(unchecked:))
        state.enquiryCount = try reader.readCount(atMost: Int(Int32.max), of: "enquiries")
        state.lastAgent = try reader.readOptionalString().map(StaffID.init(unchecked:))
        state.source = try reader.readBool() ? try EnquirySource.decode(from: &reader) : nil
        // Absent in states written before visitors remembered their keys.
        if !reader.isAtEnd {
            let count = try reader.readCount(atMost: VisitorState.rememberedKeys, of: "remembered keys")
            state.recentKeys = try (0..<count).map { _ throws(DecodingError) in try reader.readString() }
            let draining = try reader.readCount(atMost: VisitorState.maxHeld + 1_000, of: "draining enquiries")
            state.draining = try (0..<draining).map { _ throws(DecodingError) in EnquiryID(unchecked: try reader.readString()) }
            let held = try reader.readCount(atMost: VisitorState.maxHeld, of: "held messages")
            state.held = try (0..<held).map { _ throws(DecodingError) in
                let text = try reader.readString()
                return HeldMessage(text: text, key: try reader.readOptionalString())
            }
        }
        return state
    }
}

extension EnquirySource: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(name)
        settings.encode(into: &writer)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EnquirySource {
        let name = try reader.readString()
        return EnquirySource(name: name, settings: try SourceSettings.decode(from: &reader))
    }
}

/// The binary form of room events, profiles and messages. Tags and field order are part of
/// the log format: add new tags or trailing fields, never renumber.
extension RoomEvent {
    private enum Tag: UInt8 {
        case created = 1
        case messagePosted = 2
        case messageEdited = 3
        case messageRecalled = 4
        case readPointerMoved = 5
        case muteChanged = 6
        case membersAdded = 7
        case memberRemoved = 8
        case profileUpdated = 9
        case informationUpdated = 10
        case messagePreviewed = 11
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile, members):
            writer.write(Tag.created.rawValue)
            profile.encode(into: &writer)
            writer.write(members.map(\.rawValue))
        case let .messagePosted(message):
            writer.write(Tag.messagePosted.rawValue)
            message.encode(into: &writer)
        case let .messageEdited(message):
            writer.write(Tag.messageEdited.rawValue)
            message.encode(into: &writer)
        case let .messageRecalled(message, removedFile):
            writer.write(Tag.messageRecalled.rawValue)
            message.encode(into: &writer)
            writer.write(removedFile)
        case let .readPointerMoved(staff, seq):
            writer.write(Tag.readPointerMoved.rawValue)
            writer.write(staff.rawValue)
            writer.writeVarint(seq)
        case let .muteChanged(staff, setting):
            writer.write(Tag.muteChanged.rawValue)
            writer.write(staff.rawValue)
            writer.write(setting.rawValue)
        case let .membersAdded(members, by, joinedAt, readSeq):
            writer.write(Tag.membersAdded.rawValue)
            writer.write(members.map(\.rawValue))
            writer.write(by.rawValue)
            writer.write(joinedAt.milliseconds)
            writer.writeVarint(readSeq)
        case let .memberRemoved(member, by):
            writer.write(Tag.memberRemoved.rawValue)
            writer.write(member.rawValue)
            writer.write(by.rawValue)
        case let .profileUpdated(profile):
            writer.write(Tag.profileUpdated.rawValue)
            profile.encode(into: &writer)
        case let .informationUpdated(information):
            writer.write(Tag.informationUpdated.rawValue)
            information.encode(into: &writer)
        case let .messagePreviewed(message):
            writer.write(Tag.messagePreviewed.rawValue)
            message.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomEvent {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .created:
            let profile = try RoomProfile.decode(from: &reader)
            return .created(profile, members: try reader.readStrings().map { StaffID(unchecked: $0) })
        case .messagePosted: return .messagePosted(try Message.decode(from: &reader))
        case .messageEdited: return .messageEdited(try Message.decode(from: &reader))
        case .messageRecalled:
            let message = try Message.decode(from: &reader)
            return .messageRecalled(message, removedFile: try reader.readOptionalString())
        case .readPointerMoved:
            return .readPointerMoved(StaffID(unchecked: try reader.readString()), seq: try reader.readVarint())
        case .muteChanged:
            let staff = StaffID(unchecked: try reader.readString())
            let rawSetting = try reader.readUInt8()
            guard let setting = MuteSetting(rawValue: rawSetting) else { throw DecodingError("unknown mute setting \(rawSetting)") }
            return .muteChanged(staff, setting)
        case .membersAdded:
            let members = try reader.readStrings().map { StaffID(unchecked: $0) }
            let by = StaffID(unchecked: try reader.readString())
            return .membersAdded(members, by: by, joinedAt: Timestamp(milliseconds: try reader.readInt64()), readSeq: try reader.readVarint())
        case .memberRemoved:
            let member = StaffID(unchecked: try reader.readString())
            return .memberRemoved(member, by: StaffID(unchecked: try reader.readString()))
        case .profileUpdated:
            return .profileUpdated(try RoomProfile.decode(from: &reader))
        case .informationUpdated:
            return .informationUpdated(try RoomInformation.decode(from: &reader))
        case .messagePreviewed:
            return .messagePreviewed(try Message.decode(from: &reader))
        case nil:
            throw DecodingError("unknown room event tag \(raw)")
        }
    }
}

extension RoomProfile {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(kind.rawValue)
        writer.write(name)
        writer.write(description)
        writer.write(visibility.rawValue)
        writer.write(createdBy.rawValue)
        writer.write(createdAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomProfile {
        let rawKind = try reader.readUInt8()
        guard let kind = RoomKind(rawValue: rawKind) else { throw DecodingError("unknown room kind \(rawKind)") }
        let name = try reader.readString()
        let description = try reader.readString()
        let rawVisibility = try reader.readUInt8()
        guard let visibility = RoomVisibility(rawValue: rawVisibility) else {
            throw DecodingError("unknown room visibility \(rawVisibility)")
        }
        let createdBy = StaffID(unchecked: try reader.readString())
        let createdAt = Timestamp(milliseconds: try reader.readInt64())
        return RoomProfile(kind: kind, name: name, description: description, visibility: visibility, createdBy: createdBy, createdAt: createdAt)
    }
}

extension Message {
    /// A length-prefixed blob, so fields added later can be appended and detected.
    public func encode(into writer: inout BinaryWriter) {
        var body = BinaryWriter(capacity: text.utf8.count + 48)
        body.writeVarint(seq)
        body.write(author.rawValue)
        body.write(text)
        body.write(postedAt.milliseconds)
        body.write(idempotencyKey)
        body.write(replyTo != nil)
        replyTo?.encode(into: &body)
        body.write(forwardedFrom != nil)
        forwardedFrom?.encode(into: &body)
        body.write(mentions.map(\.rawValue))
        body.write(mentionsAll)
        body.write(editedAt != nil)
        if let editedAt { body.write(editedAt.milliseconds) }
        body.write(recalledAt != nil)
        if let recalledAt { body.write(recalledAt.milliseconds) }
        body.write(attachment != nil)
        attachment?.encode(into: &body)
        body.write(quickLink != nil)
        quickLink?.encode(into: &body)
        body.writeVarint(UInt64(linkPreviews.count))
        for preview in linkPreviews { preview.encode(into: &body) }
        writer.write(bytes: body.bytes)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Message {
        var body = BinaryReader(try reader.readBytes())
        var message = Message(
            seq: try body.readVarint(),
            author: StaffID(unchecked: try body.readString()),
            text: try body.readString(),
            postedAt: Timestamp(milliseconds: try body.readInt64()),
            idempotencyKey: try body.readOptionalString())
        message.replyTo = try body.readBool() ? try Quote.decode(from: &body) : nil
        message.forwardedFrom = try body.readBool() ? try Quote.decode(from: &body) : nil
        message.mentions = try body.readStrings().map { StaffID(unchecked: $0) }
        message.mentionsAll = try body.readBool()
        message.editedAt = try body.readBool() ? Timestamp(milliseconds: try body.readInt64()) : nil
        message.recalledAt = try body.readBool() ? Timestamp(milliseconds: try body.readInt64()) : nil
        if !body.isAtEnd, try body.readBool() {
            message.attachment = try FileAttachment.decode(from: &body)
        }
        if !body.isAtEnd, try body.readBool() {
            message.quickLink = try Shortcut.decode(from: &body)
        }
        if !body.isAtEnd {
            let count = try body.readVarint()
            guard count <= UInt64(LinkPreview.maxPerMessage) else { throw DecodingError("\(count) link previews") }
            message.linkPreviews = try (0..<count).map { _ throws(DecodingError) in try LinkPreview.decode(from: &body) }
        }
        return message
    }
}

extension Quote {
    func encode(into writer: inout BinaryWriter) {
        writer.write(reference.room.rawValue)
        writer.writeVarint(reference.seq)
        writer.write(author.rawValue)
        writer.write(excerpt)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Quote {
        Quote(
            reference: MessageReference(room: RoomID(unchecked: try reader.readString()), seq: try reader.readVarint()),
            author: StaffID(unchecked: try reader.readString()),
            excerpt: try reader.readString())
    }
}

extension FileAttachment {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id)
        writer.write(name)
        writer.write(contentType)
        writer.writeVarint(size)
        writer.write(bytes: sha256)
        writer.writeVarint(UInt64(chunkCount))
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> FileAttachment {
        let id = try reader.readString()
        let name = try reader.readString()
        let contentType = try reader.readString()
        let size = try reader.readVarint()
        let sha = try reader.readBytes()
        let chunks = try reader.readVarint()
        guard chunks <= UInt64(UInt32.max) else { throw DecodingError("chunk count \(chunks) out of range") }
        return FileAttachment(id: id, name: name, contentType: contentType, size: size, sha256: sha, chunkCount: UInt32(chunks))
    }
}

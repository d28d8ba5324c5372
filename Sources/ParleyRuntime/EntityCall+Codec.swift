import ParleyCluster
import ParleyDomain

/// The binary form of entity calls and their answers between nodes: a format version byte,
/// then a tag and the fields in a fixed order (domain values in their own codecs). Tags are
/// part of the peer protocol: add new ones, never renumber; a change old nodes cannot read
/// takes a new format version.
enum EntityCallCodec {
    /// 2: staff and channel calls became generic `command`/`read` calls, and a refusal
    /// carries its category. Nodes of another format refuse each other's calls whole.
    static let formatVersion: UInt8 = 2

    /// Tags 9 to 15, 17 and 18 were the staff and channel calls before the entity seam made
    /// them `command`/`read` calls; they stay unused.
    private enum CallTag: UInt8 {
        case roomCommand = 1, roomState, message, messages, journal, uploadFile, file, fileBytes
        case postMessage = 16
        case command = 19, read, fireTimer, applyEffects
    }

    /// Tags 9 to 13 and 15 were staff, channel, mention, presence and credential replies;
    /// those travel as `bytes` now.
    private enum ReplyTag: UInt8 {
        case room = 1, roomState, message, messages, journal, posted, file, bytes
        case done = 14
    }

    private enum OutcomeTag: UInt8 { case applied = 1, replayed }

    private enum Status: UInt8 { case ok = 0, failed }

    private enum ErrorTag: UInt8 { case rejected = 1, unavailable, internalFailure, servedElsewhere }

    static func encode(_ call: EntityCall) -> [UInt8] {
        var writer = BinaryWriter(capacity: 128)
        writer.write(formatVersion)
        func tag(_ tag: CallTag) { writer.write(tag.rawValue) }
        switch call {
        case let .roomCommand(room, command):
            tag(.roomCommand)
            writer.write(room.rawValue)
            command.encode(into: &writer)
        case let .postMessage(room, post):
            tag(.postMessage)
            writer.write(room.rawValue)
            RoomCommand.post(post).encode(into: &writer)
        case let .roomState(room, reader):
            tag(.roomState)
            writer.write(room.rawValue)
            writer.write(reader.rawValue)
        case let .message(room, seq, reader):
            tag(.message)
            writer.write(room.rawValue)
            writer.write(reader.rawValue)
            writer.writeVarint(seq)
        case let .messages(room, reader, page):
            tag(.messages)
            writer.write(room.rawValue)
            writer.write(reader.rawValue)
            writer.writeOptionalVarint(page.after)
            writer.writeOptionalVarint(page.before)
            writer.writeVarint(UInt64(page.limit))
        case let .journal(room, reader, after, limit):
            tag(.journal)
            writer.write(room.rawValue)
            writer.write(reader.rawValue)
            writer.writeVarint(after)
            writer.writeVarint(UInt64(max(limit, 0)))
        case let .uploadFile(upload):
            tag(.uploadFile)
            writer.write(upload.room.rawValue)
            writer.write(upload.staff.rawValue)
            writer.write(upload.name)
            writer.write(upload.contentType)
            writer.write(upload.caption)
            writer.write(upload.idempotencyKey)
            writer.write(bytes: upload.sha256)
            writer.write(bytes: upload.bytes)
        case let .file(room, file, reader):
            tag(.file)
            writer.write(room.rawValue)
            writer.write(file)
            writer.write(reader.rawValue)
        case let .fileBytes(room, attachment, range):
            tag(.fileBytes)
            writer.write(room.rawValue)
            attachment.encode(into: &writer)
            writer.writeVarint(range.lowerBound)
            writer.writeVarint(range.upperBound)
        case let .command(entity, caller, payload, origin, reply):
            tag(.command)
            entity.encode(into: &writer)
            caller.encode(into: &writer)
            writer.write(bytes: payload)
            writer.write(origin != nil)
            origin?.encode(into: &writer)
            writer.write(reply)
        case let .read(entity, caller, name, payload):
            tag(.read)
            entity.encode(into: &writer)
            caller.encode(into: &writer)
            writer.write(name)
            writer.write(bytes: payload)
        case let .applyEffects(entity, commands):
            tag(.applyEffects)
            entity.encode(into: &writer)
            writer.writeVarint(UInt64(commands.count))
            for command in commands {
                command.origin.encode(into: &writer)
                writer.write(bytes: command.payload)
            }
        case let .fireTimer(entity, tag: timer, deadline):
            tag(.fireTimer)
            entity.encode(into: &writer)
            writer.write(timer)
            writer.write(deadline.milliseconds)
        }
        return writer.bytes
    }

    static func decodeCall(_ bytes: [UInt8]) throws(DecodingError) -> EntityCall {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        func room() throws(DecodingError) -> RoomID { RoomID(unchecked: try reader.readString()) }
        func staff() throws(DecodingError) -> StaffID { StaffID(unchecked: try reader.readString()) }
        func count() throws(DecodingError) -> Int { try reader.readCount(atMost: Int(Int32.max), of: "items") }
        let call: EntityCall
        switch try reader.read(CallTag.self, "entity call tag") {
        case .roomCommand:
            let id = try room()
            call = .roomCommand(id, try RoomCommand.decode(from: &reader))
        case .postMessage:
            let id = try room()
            guard case let .post(post) = try RoomCommand.decode(from: &reader) else { throw DecodingError("a message post that is not a post") }
            call = .postMessage(id, post)
        case .roomState:
            let id = try room()
            call = .roomState(id, reader: try staff())
        case .message:
            let id = try room()
            let by = try staff()
            call = .message(id, seq: try reader.readVarint(), reader: by)
        case .messages:
            let id = try room()
            let by = try staff()
            let after = try reader.readOptionalVarint()
            let before = try reader.readOptionalVarint()
            call = .messages(id, reader: by, HistoryPage(after: after, before: before, limit: try count()))
        case .journal:
            let id = try room()
            let by = try staff()
            let after = try reader.readVarint()
            call = .journal(id, reader: by, after: after, limit: try count())
        case .uploadFile:
            let texts = try (0..<5).map { _ throws(DecodingError) in try reader.readString() }
            let key = try reader.readOptionalString()
            let sha = try reader.readBytes()
            call = .uploadFile(FileUpload(
                room: RoomID(unchecked: texts[0]), staff: StaffID(unchecked: texts[1]), name: texts[2], contentType: texts[3],
                bytes: try reader.readBytes(), sha256: sha, caption: texts[4], idempotencyKey: key))
        case .file:
            let id = try room()
            let file = try reader.readString()
            call = .file(id, file: file, reader: try staff())
        case .fileBytes:
            let id = try room()
            let attachment = try FileAttachment.decode(from: &reader)
            let lower = try reader.readVarint()
            let upper = try reader.readVarint()
            guard lower <= upper else { throw DecodingError("byte range \(lower)..<\(upper) is reversed") }
            call = .fileBytes(id, attachment, range: lower..<upper)
        case .command:
            let entity = try EntityID.decode(from: &reader)
            let caller = try Caller.decode(from: &reader)
            let payload = try reader.readBytes()
            let origin = try reader.readBool() ? try EffectOrigin.decode(from: &reader) : nil
            call = .command(entity, caller: caller, payload: payload, origin: origin, reply: try reader.readBool())
        case .read:
            let entity = try EntityID.decode(from: &reader)
            let caller = try Caller.decode(from: &reader)
            let name = try reader.readString()
            call = .read(entity, caller: caller, name: name, payload: try reader.readBytes())
        case .applyEffects:
            let entity = try EntityID.decode(from: &reader)
            var commands: [EffectCommand] = []
            for _ in 0..<(try reader.readCount(atMost: 100_000, of: "effect commands")) {
                let origin = try EffectOrigin.decode(from: &reader)
                commands.append(EffectCommand(origin: origin, payload: try reader.readBytes()))
            }
            call = .applyEffects(entity, commands)
        case .fireTimer:
            let entity = try EntityID.decode(from: &reader)
            let timer = try reader.readString()
            call = .fireTimer(entity, tag: timer, deadline: Timestamp(milliseconds: try reader.readInt64()))
        }
        try reader.expectEnd()
        return call
    }

    static func encode(_ result: Result<EntityReply, RuntimeError>) -> [UInt8] {
        var writer = BinaryWriter(capacity: 256)
        writer.write(formatVersion)
        switch result {
        case let .success(reply):
            writer.write(Status.ok.rawValue)
            encode(reply, into: &writer)
        case let .failure(error):
            writer.write(Status.failed.rawValue)
            encode(error, into: &writer)
        }
        return writer.bytes
    }

    static func decodeResult(_ bytes: [UInt8]) throws(DecodingError) -> Result<EntityReply, RuntimeError> {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        let result: Result<EntityReply, RuntimeError> =
            switch try reader.read(Status.self, "call status") {
            case .ok: .success(try decodeReply(&reader))
            case .failed: .failure(try decodeError(&reader))
            }
        try reader.expectEnd()
        return result
    }

    private static func expectVersion(_ reader: inout BinaryReader) throws(DecodingError) {
        let version = try reader.readUInt8()
        guard version == formatVersion else { throw DecodingError("entity call format \(version) (this node reads \(formatVersion))") }
    }

    private static func encode(_ reply: EntityReply, into writer: inout BinaryWriter) {
        func tag(_ tag: ReplyTag) { writer.write(tag.rawValue) }
        switch reply {
        case let .room(.applied(entries, state)):
            tag(.room)
            writer.write(OutcomeTag.applied.rawValue)
            encode(entries, into: &writer)
            state.encode(into: &writer)
        case let .room(.replayed(message, state)):
            tag(.room)
            writer.write(OutcomeTag.replayed.rawValue)
            message.encode(into: &writer)
            state.encode(into: &writer)
        case let .roomState(state):
            tag(.roomState)
            state.encode(into: &writer)
        case let .message(message):
            tag(.message)
            message.encode(into: &writer)
        case let .messages(messages):
            tag(.messages)
            writer.writeVarint(UInt64(messages.count))
            for message in messages { message.encode(into: &writer) }
        case let .journal(entries, oldest):
            tag(.journal)
            encode(entries, into: &writer)
            writer.writeOptionalVarint(oldest)
        case let .posted(message, replayed):
            tag(.posted)
            message.encode(into: &writer)
            writer.write(replayed)
        case let .file(attachment):
            tag(.file)
            attachment.encode(into: &writer)
        case let .bytes(bytes):
            tag(.bytes)
            writer.write(bytes: bytes)
        case .done:
            tag(.done)
        }
    }

    private static func decodeReply(_ reader: inout BinaryReader) throws(DecodingError) -> EntityReply {
        func count() throws(DecodingError) -> Int { try reader.readCount(atMost: 10_000_000, of: "items") }
        switch try reader.read(ReplyTag.self, "entity reply tag") {
        case .room:
            switch try reader.read(OutcomeTag.self, "room outcome") {
            case .applied:
                let entries = try decodeEntries(&reader)
                return .room(.applied(entries, try RoomState.decode(from: &reader)))
            case .replayed:
                let message = try Message.decode(from: &reader)
                return .room(.replayed(message, try RoomState.decode(from: &reader)))
            }
        case .roomState: return .roomState(try RoomState.decode(from: &reader))
        case .message: return .message(try Message.decode(from: &reader))
        case .messages: return .messages(try (0..<count()).map { _ throws(DecodingError) in try Message.decode(from: &reader) })
        case .journal:
            let entries = try decodeEntries(&reader)
            return .journal(entries, oldestKept: try reader.readOptionalVarint())
        case .posted:
            let message = try Message.decode(from: &reader)
            return .posted(message, replayed: try reader.readBool())
        case .file: return .file(try FileAttachment.decode(from: &reader))
        case .bytes: return .bytes(try reader.readBytes())
        case .done: return .done
        }
    }

    /// Journal entries: room, event seq, event.
    static func encode(_ entries: [JournalEntry], into writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(entries.count))
        for entry in entries {
            writer.write(entry.room.rawValue)
            writer.writeVarint(entry.eventSeq)
            entry.event.encode(into: &writer)
        }
    }

    static func decodeEntries(_ reader: inout BinaryReader) throws(DecodingError) -> [JournalEntry] {
        let count = try reader.readCount(atMost: 10_000_000, of: "journal entries")
        var entries: [JournalEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let room = RoomID(unchecked: try reader.readString())
            let eventSeq = try reader.readVarint()
            entries.append(JournalEntry(room: room, eventSeq: eventSeq, event: try RoomEvent.decode(from: &reader)))
        }
        return entries
    }

    private static func encode(_ error: RuntimeError, into writer: inout BinaryWriter) {
        switch error {
        case let .rejected(domain):
            writer.write(ErrorTag.rejected.rawValue)
            domain.encode(into: &writer)
        case let .unavailable(code, message):
            writer.write(ErrorTag.unavailable.rawValue)
            writer.write([code, message])
        case let .internalFailure(code, message):
            writer.write(ErrorTag.internalFailure.rawValue)
            writer.write([code, message])
        case let .servedElsewhere(partition, serving):
            writer.write(ErrorTag.servedElsewhere.rawValue)
            writer.write(partition.rawValue)
            writer.write(serving)
        }
    }

    private static func decodeError(_ reader: inout BinaryReader) throws(DecodingError) -> RuntimeError {
        func pair() throws(DecodingError) -> (String, String) {
            let texts = try reader.readStrings()
            guard texts.count == 2 else { throw DecodingError("an error has a code and a message") }
            return (texts[0], texts[1])
        }
        switch try reader.read(ErrorTag.self, "error kind") {
        case .rejected: return .rejected(try DomainError.decode(from: &reader))
        case .unavailable:
            let (code, message) = try pair()
            return .unavailable(code: code, message: message)
        case .internalFailure:
            let (code, message) = try pair()
            return .internalFailure(code: code, message: message)
        case .servedElsewhere:
            let partition = PartitionID(try reader.readUInt16())
            return .servedElsewhere(partition, serving: try reader.readString())
        }
    }
}

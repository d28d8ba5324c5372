import ParleyCluster
import ParleyDomain

extension RoomStore {
    /// Rooms as a registered kind: their records (the journal gives the last event seq),
    /// live publication to members' sessions and link previews of what was posted or edited,
    /// and the operations beside commands: history pages, the journal, files.
    static let registration = EntityKindRegistration<RoomState>(
        storage: EntityStorage(
            addEncodedWrites: { events, encoded, records, writes in
                addWrites(
                    for: events, encoded: encoded, firstEventSeq: records.firstEventSeq, of: RoomID(unchecked: records.entity.key), in: records.partition,
                    to: &writes)
            },
            load: { reader in try load(reader) },
            eventSeq: { $0.lastEventSeq }),
        publish: { sinks, firstEventSeq, events, room in
            let entries = events.enumerated().map { JournalEntry(room: room.id, eventSeq: firstEventSeq + UInt64($0.offset), event: $0.element) }
            sinks.rooms.publish(entries, room: room)
            guard let previews = sinks.linkPreviews else { return }
            for event in events {
                switch event {
                case let .messagePosted(message), let .messageEdited(message): previews.request(message, in: room.id)
                default: continue
                }
            }
        },
        operations: [
            Operation.messages: EntityOperation { runtime, entity, caller, payload throws(RuntimeError) in
                let room = try await runtime.readableRoom(entity, by: caller)
                let page = try decodingPayload { () throws(DecodingError) -> HistoryPage in
                    var reader = BinaryReader(payload)
                    let after = try reader.readOptionalVarint()
                    let before = try reader.readOptionalVarint()
                    return HistoryPage(after: after, before: before, limit: try reader.readCount(atMost: Int(Int32.max), of: "messages"))
                }
                let store = runtime.store
                let messages = try await store.database.executor.run { () throws(RuntimeError) -> [Message] in try store.messages(in: room, page: page) }
                var writer = BinaryWriter(capacity: 256)
                writer.writeVarint(UInt64(messages.count))
                for message in messages { message.encode(into: &writer) }
                return writer.bytes
            },
            Operation.journal: EntityOperation { runtime, entity, caller, payload throws(RuntimeError) in
                let room = try await runtime.readableRoom(entity, by: caller)
                let (after, limit) = try decodingPayload { () throws(DecodingError) -> (UInt64, Int) in
                    var reader = BinaryReader(payload)
                    return (try reader.readVarint(), try reader.readCount(atMost: Int(Int32.max), of: "events"))
                }
                let store = runtime.store
                let (entries, oldest) = try await store.database.executor.run { () throws(RuntimeError) -> ([JournalEntry], UInt64?) in
                    try store.journal(of: room, after: after, limit: limit)
                }
                var writer = BinaryWriter(capacity: 256)
                JournalEntry.encode(entries, into: &writer)
                writer.writeOptionalVarint(oldest)
                return writer.bytes
            },
            Operation.file: EntityOperation { runtime, entity, caller, payload throws(RuntimeError) in
                let room = try await runtime.readableRoom(entity, by: caller)
                let file = String(decoding: payload, as: UTF8.self)
                let store = runtime.store
                let message = try await store.database.executor.run { () throws(RuntimeError) -> Message? in try store.message(in: room, file: file) }
                guard let attachment = message?.attachment, attachment.id == file else {
                    throw .rejected(DomainError(.fileNotFound, "room \(room) has no file \(file)"))
                }
                return attachment.encoded
            },
            Operation.fileBytes: EntityOperation { runtime, entity, _, payload throws(RuntimeError) in
                let (attachment, range) = try decodingPayload { () throws(DecodingError) -> (FileAttachment, Range<UInt64>) in
                    var reader = BinaryReader(payload)
                    let attachment = try FileAttachment.decode(from: &reader)
                    let lower = try reader.readVarint()
                    let upper = try reader.readVarint()
                    guard lower <= upper else { throw DecodingError("byte range \(lower)..<\(upper) is reversed") }
                    return (attachment, lower..<upper)
                }
                let store = runtime.store
                let room = RoomID(unchecked: entity.key)
                return try await store.database.executor.run { () throws(RuntimeError) -> [UInt8] in try store.fileBytes(attachment, in: room, range: range) }
            },
            Operation.upload: EntityOperation(linearizable: false) { runtime, entity, caller, payload throws(RuntimeError) in
                let upload = try decodingPayload { () throws(DecodingError) -> FileUpload in try FileUpload.decode(payload) }
                guard upload.room.rawValue == entity.key, caller.isInternal || caller == NodeRuntime.caller(upload.staff) else {
                    throw .rejected(DomainError(.forbidden, "\(caller) may not upload as \(upload.staff) to \(entity)"))
                }
                return RoomHost.encode(try await runtime.uploadFileHere(upload), brief: true)
            },
        ])

    /// The names of rooms' operations.
    enum Operation {
        static let messages = "messages"
        static let journal = "journal"
        static let file = "file"
        static let fileBytes = "fileBytes"
        static let upload = "upload"
    }
}

/// Reads an operation's payload; an unreadable one is the caller's mistake.
func decodingPayload<Value>(_ body: () throws(DecodingError) -> Value) throws(RuntimeError) -> Value {
    do {
        return try body()
    } catch {
        throw .rejected(DomainError(.invalidArgument, "unreadable operation payload: \(error.message)"))
    }
}

extension FileUpload: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(room.rawValue)
        writer.write(staff.rawValue)
        writer.write(name)
        writer.write(contentType)
        writer.write(caption)
        writer.write(idempotencyKey)
        writer.write(bytes: sha256)
        writer.write(bytes: bytes)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> FileUpload {
        let texts = try (0..<5).map { _ throws(DecodingError) in try reader.readString() }
        let key = try reader.readOptionalString()
        let sha = try reader.readBytes()
        return FileUpload(
            room: RoomID(unchecked: texts[0]), staff: StaffID(unchecked: texts[1]), name: texts[2], contentType: texts[3],
            bytes: try reader.readBytes(), sha256: sha, caption: texts[4], idempotencyKey: key)
    }
}

import ParleyCluster
import ParleyDomain
import ParleyStorage

extension NodeRuntime {
    /// Shares a file in `room`: its bytes go through the room's partition log in chunks (so
    /// they are as durable as any message), then a message carrying the attachment is posted.
    /// `sha256` is the content's checksum, computed by the caller.
    public func uploadFile(
        to room: RoomID, by staff: StaffID, name: String, contentType: String, bytes: [UInt8], sha256: [UInt8],
        caption: String = "", idempotencyKey: String? = nil
    ) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        let upload = FileUpload(
            room: room, staff: staff, name: name, contentType: contentType, bytes: bytes, sha256: sha256, caption: caption, idempotencyKey: idempotencyKey)
        let bytes = try await read(RoomStore.Operation.upload, of: .room(room), by: Self.caller(staff), payload: upload.encoded)
        return try Self.decodedPost(bytes, in: room)
    }

    /// `uploadFile` on this node, which serves the room (the room's `upload` operation).
    func uploadFileHere(_ upload: FileUpload) async throws(RuntimeError) -> RoomOutcome {
        let (room, staff, bytes) = (upload.room, upload.staff, upload.bytes)
        do {
            try FileAttachment.validate(name: upload.name, limits: configuration.roomLimits)
        } catch {
            throw .rejected(error)
        }
        _ = try await readableRoom(.room(room), by: Self.caller(staff))
        if let key = upload.idempotencyKey, let existing = try store.message(in: room, idempotencyKey: key, author: staff) {
            // A retried upload: answer with the original without storing the bytes again.
            return try await postHere(MessagePost(author: staff, text: existing.text, idempotencyKey: key, attachment: existing.attachment), in: room)
        }
        let file = "f_" + RoomID.random(prefix: "").rawValue
        let partition = store.partition(of: room)
        let chunkSize = RoomStore.fileChunkBytes
        let chunkCount = max(1, (bytes.count + chunkSize - 1) / chunkSize)
        var attempt = 0
        while true {
            let generation = log.generation(of: partition)
            let tickets = (0..<chunkCount).map { index in
                let chunk = Array(bytes[min(index * chunkSize, bytes.count)..<min((index + 1) * chunkSize, bytes.count)])
                return log.append(EntityEnvelope.fileChunk(room, file: file, index: UInt32(index), bytes: chunk).encoded(), to: partition, generation: generation)
            }
            var failure: ClusterError?
            for ticket in tickets {
                do { _ = try await ticket.result() } catch { failure = failure ?? error }
            }
            guard let failure else { break }
            attempt += 1
            guard failure.code == .stale, attempt <= configuration.maxFencedRetries else { throw .log(failure) }
        }
        let attachment = FileAttachment(
            id: file, name: upload.name, contentType: upload.contentType, size: UInt64(bytes.count), sha256: upload.sha256, chunkCount: UInt32(chunkCount))
        return try await postHere(MessagePost(author: staff, text: upload.caption, idempotencyKey: upload.idempotencyKey, attachment: attachment), in: room)
    }

    /// Posts on this node, which serves the room.
    private func postHere(_ post: MessagePost, in room: RoomID) async throws(RuntimeError) -> RoomOutcome {
        guard let roomActors else { throw Self.unregistered(RoomState.kind.rawValue) }
        return try await roomActors.run(.post(post), on: .room(room), caller: Self.caller(post.author), origin: nil)
    }

    /// The attachment `file` of `room`, if `reader` may read the room and it was not recalled.
    public func file(_ file: String, in room: RoomID, reader: StaffID) async throws(RuntimeError) -> FileAttachment {
        let bytes = try await read(RoomStore.Operation.file, of: .room(room), by: Self.caller(reader), payload: Array(file.utf8))
        return try Self.decoded(FileAttachment.self, bytes, of: .room(room))
    }

    /// Bytes `range` of a file (already authorised by `file(_:in:reader:)`).
    public func fileBytes(_ attachment: FileAttachment, in room: RoomID, range: Range<UInt64>) async throws(RuntimeError) -> [UInt8] {
        var writer = BinaryWriter()
        attachment.encode(into: &writer)
        writer.writeVarint(range.lowerBound)
        writer.writeVarint(range.upperBound)
        return try await read(RoomStore.Operation.fileBytes, of: .room(room), payload: writer.bytes)
    }
}

extension RoomStore {
    func message(in room: RoomID, file: String) throws(RuntimeError) -> Message? {
        let seq = try readingState {
            try database.get(Self.key(partition(of: room), room, .fileIndex, Array(file.utf8)), in: family).flatMap { StateKeys.readBigEndian($0[...]) }
        }
        guard let seq else { return nil }
        return try message(in: room, seq: seq)
    }

    func fileBytes(_ attachment: FileAttachment, in room: RoomID, range: Range<UInt64>) throws(RuntimeError) -> [UInt8] {
        guard !range.isEmpty else { return [] }
        let size = UInt64(Self.fileChunkBytes)
        let partition = partition(of: room)
        var result: [UInt8] = []
        result.reserveCapacity(Int(range.count))
        for index in (range.lowerBound / size)...((range.upperBound - 1) / size) {
            let chunk = try readingState { () throws -> [UInt8] in
                guard let stored = try database.get(Self.fileChunkKey(partition, room, file: attachment.id, index: UInt32(index)), in: family) else {
                    throw RuntimeError.internalFailure(code: "file_chunk_missing", message: "chunk \(index) of \(attachment.id) is missing")
                }
                return stored
            }
            let chunkStart = index * size
            let from = Int(max(range.lowerBound, chunkStart) - chunkStart)
            let to = Int(min(range.upperBound, chunkStart + UInt64(chunk.count)) - chunkStart)
            if from < to { result.append(contentsOf: chunk[from..<to]) }
        }
        return result
    }
}

/// An upload whose chunks no message has taken up yet.
public struct PendingUpload: Hashable, Sendable {
    public let room: RoomID
    public let file: String
}

extension NodeRuntime {
    /// Every upload whose chunks are stored but no message took up: uploads in progress, and
    /// ones whose post was refused or never came (the node stopped in between).
    public func pendingUploads() async throws(RuntimeError) -> [PendingUpload] {
        let store = self.store
        // Only partitions this node serves: another replica's sweep is its leader's to do.
        let served = configuration.servedPartitions
        let partitions = partitioner.allPartitions.filter { served.serves($0) }
        return try await store.database.executor.run { () throws(RuntimeError) -> [PendingUpload] in
            var uploads: [PendingUpload] = []
            for partition in partitions { uploads += try store.pendingUploads(in: partition) }
            return uploads
        }
    }

    /// Deletes the chunks of `upload` unless a message took it up meanwhile; answers whether
    /// it did.
    @discardableResult
    public func discardUpload(_ upload: PendingUpload) async throws(RuntimeError) -> Bool {
        guard let roomActors else { throw Self.unregistered(RoomState.kind.rawValue) }
        return try await retryingFenced(upload.room.rawValue, maxRetries: configuration.maxFencedRetries, logger: logger) { () async throws(RuntimeError) -> Bool in
            try await roomActors.registry(.room(upload.room)).withEntity(upload.room.rawValue) { (actor) async throws(RuntimeError) -> Bool in
                try await actor.discardUpload(upload.file)
            }
        }
    }
}

extension RoomStore {
    func hasPendingUpload(_ file: String, in room: RoomID) throws(RuntimeError) -> Bool {
        try readingState { try database.get(Self.pendingUploadKey(partition(of: room), room, file: file), in: family) != nil }
    }

    func pendingUploads(in partition: PartitionID) throws(RuntimeError) -> [PendingUpload] {
        let prefix = Self.pendingUploadPrefix(partition)
        return try readingState {
            try database.entries(.prefix(prefix), in: family).compactMap { entry -> PendingUpload? in
                let rest = entry.key[prefix.count...]
                guard let end = rest.firstIndex(of: 0) else { return nil }
                return PendingUpload(
                    room: RoomID(unchecked: String(decoding: rest[..<end], as: UTF8.self)),
                    file: String(decoding: entry.key[(end + 1)...], as: UTF8.self))
            }
        }
    }
}

import ParleyCluster
import ParleyDomain

/// The rooms' API: commands and reads of the room kind, through the node serving the room.
/// A command is decided typed on this node when it serves the room, else forwarded as a
/// generic command call; reads are the state read and the room's registered operations.
extension NodeRuntime {
    /// Creates a room: a space or conference with a new id, or the direct room of a staff
    /// pair (whose id is derived from the pair, so opening it again returns it).
    public func createRoom(_ creation: RoomCreation) async throws(RuntimeError) -> RoomState {
        try await openRoom(creation).room
    }

    /// `createRoom`, telling whether the room is new (false: the pair's direct room existed).
    public func openRoom(_ creation: RoomCreation) async throws(RuntimeError) -> (room: RoomState, created: Bool) {
        guard creation.kind == .direct else { return (try await create(.create(creation), at: RoomID.random(prefix: "r_")), true) }
        let outcome = try await send(.create(creation), to: Self.directRoomID(creation.creator, creation.members))
        guard case let .applied(entries, state) = outcome else { return (outcome.state, false) }
        return (state, !entries.isEmpty)
    }

    /// Opens an enquiry room for the staff serving it (what enquiry routing calls).
    public func openEnquiryRoom(_ opening: EnquiryOpening) async throws(RuntimeError) -> RoomState {
        try await create(.openEnquiry(opening), at: RoomID.random(prefix: "e_"))
    }

    /// Creates the room `id`, fresh and random. An attempt forwarded to a leader that moved is
    /// retried at the new one, and when the first attempt had committed the retry finds the
    /// room: with a fresh random id it can only be this call's own, so it is the answer.
    private func create(_ command: RoomCommand, at id: RoomID) async throws(RuntimeError) -> RoomState {
        do {
            return try await send(command, to: id).state
        } catch {
            guard case let .rejected(refusal) = error, refusal.code == .roomAlreadyExists else { throw error }
            return try await state(of: id.rawValue, RoomState.self)
        }
    }

    /// `d_` and two independent stable hashes of the sorted pair.
    static func directRoomID(_ creator: StaffID, _ members: [StaffID]) -> RoomID {
        let pair = Set(members + [creator]).map(\.rawValue).sorted().joined(separator: "/")
        let first = String(Partitioner.stableHash("direct/" + pair), radix: 16)
        let second = String(Partitioner.stableHash(pair + "/direct"), radix: 16)
        return RoomID(unchecked: "d_" + first + second)
    }

    /// Posts a message; `replayed` tells whether an idempotency key matched an earlier post.
    public func postMessage(in room: RoomID, _ post: MessagePost) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        // A forwarded post is answered briefly: the message, not the room's state.
        try await send(.post(post), to: room, answer: .briefOutcome, local: Self.posted) { bytes throws(RuntimeError) in
            try Self.decodedPost(bytes, in: room)
        }
    }

    /// Forwards message `seq` of `origin` to `target`; the forwarder must be a member of
    /// both. `text` (optional) is the forwarder's own words above the forwarded message.
    public func forward(
        _ seq: UInt64, from origin: RoomID, to target: RoomID, by staff: StaffID, text: String = "", idempotencyKey: String? = nil
    ) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        var writer = BinaryWriter()
        writer.writeVarint(seq)
        let bytes = try await read(RoomHost.messageRead, of: .room(origin), by: Self.caller(staff), payload: writer.bytes)
        let original = try Self.decoded(Message.self, bytes, of: .room(origin))
        return try await postMessage(in: target, MessagePost(author: staff, text: text, idempotencyKey: idempotencyKey, forwarding: (original, origin)))
    }

    /// Edits message `seq`: its author only, within the edit window.
    public func edit(_ seq: UInt64, in room: RoomID, text: String, by staff: StaffID) async throws(RuntimeError) -> Message {
        try changedMessage(try await send(.edit(seq: seq, text: text, by: staff), to: room))
    }

    /// Recalls message `seq`: its author only, within the edit window. Its content is gone
    /// for everyone; a tombstone keeps its place.
    public func recall(_ seq: UInt64, in room: RoomID, by staff: StaffID) async throws(RuntimeError) -> Message {
        try changedMessage(try await send(.recall(seq: seq, by: staff), to: room))
    }

    /// Runs a room command that answers with the room (read pointers, mute, membership,
    /// profile).
    public func update(_ room: RoomID, _ command: RoomCommand) async throws(RuntimeError) -> RoomState {
        try await send(command, to: room).state
    }

    /// Records previews of message `seq`'s links (what the `LinkPreviewService` calls). The
    /// room keeps only those of links its text still has, and ignores recalled messages.
    public func attachLinkPreviews(_ previews: [LinkPreview], to seq: UInt64, in room: RoomID) async throws(RuntimeError) {
        _ = try await send(.attachLinkPreviews(seq: seq, previews), to: room)
    }

    /// The room, as `reader` may see it.
    public func room(_ id: RoomID, reader: StaffID) async throws(RuntimeError) -> RoomState {
        try await state(of: id.rawValue, RoomState.self, by: Self.caller(reader))
    }

    /// A page of the room's history, oldest first; only members may read it.
    public func messages(in id: RoomID, reader: StaffID, page: HistoryPage) async throws(RuntimeError) -> [Message] {
        try await messages(in: id, caller: Self.caller(reader), page: page)
    }

    /// A page of the room's history, oldest first, as `caller` (a member, or the visitor of an
    /// enquiry room) may read it.
    public func messages(in id: RoomID, caller: Caller, page: HistoryPage) async throws(RuntimeError) -> [Message] {
        var writer = BinaryWriter()
        writer.writeOptionalVarint(page.after)
        writer.writeOptionalVarint(page.before)
        writer.writeVarint(UInt64(page.limit))
        let bytes = try await read(RoomStore.Operation.messages, of: .room(id), by: caller, payload: writer.bytes)
        return try Self.decodedAnswer(bytes, of: .room(id)) { (reader: inout BinaryReader) throws(DecodingError) -> [Message] in
            try (0..<reader.readCount(atMost: HistoryPage.maxLimit, of: "messages")).map { _ throws(DecodingError) in try Message.decode(from: &reader) }
        }
    }

    /// Journal events after `eventSeq` (what a reconnecting client missed), and the oldest
    /// event seq still kept; only members may read it.
    public func journal(of id: RoomID, reader: StaffID, after eventSeq: UInt64, limit: Int) async throws(RuntimeError) -> (entries: [JournalEntry], oldestKept: UInt64?) {
        var writer = BinaryWriter()
        writer.writeVarint(eventSeq)
        writer.writeVarint(UInt64(max(limit, 0)))
        let bytes = try await read(RoomStore.Operation.journal, of: .room(id), by: Self.caller(reader), payload: writer.bytes)
        return try Self.decodedAnswer(bytes, of: .room(id)) { (reader: inout BinaryReader) throws(DecodingError) -> ([JournalEntry], UInt64?) in
            (try JournalEntry.decodeAll(from: &reader), try reader.readOptionalVarint())
        }
    }

    /// The caller a room API call acts as: the staff member it names, or the visitor a
    /// `visitor:<id>` member is. Rooms decide by membership, not by role, so the role is not
    /// asked for.
    static func caller(_ staff: StaffID) -> Caller {
        if let visitor = staff.visitor { return .visitor(visitor.rawValue) }
        return .staff(staff, role: .agent)
    }

    /// Runs `command` on `room` as the staff member it names (the node, for commands that
    /// name none); answers with the outcome.
    func send(_ command: RoomCommand, to room: RoomID) async throws(RuntimeError) -> RoomOutcome {
        try await send(command, to: room, answer: .outcome, local: { $0 }) { bytes throws(RuntimeError) in
            try Self.decoded(RoomOutcome.self, bytes, of: .room(room))
        }
    }

    /// Runs `command` on `room`: typed on this node when it serves the room, else forwarded
    /// with `answer` asked for and read by `remote`.
    private func send<R>(
        _ command: RoomCommand, to room: RoomID, answer: CallAnswer, local: (RoomOutcome) throws(RuntimeError) -> R,
        remote: ([UInt8]) throws(RuntimeError) -> R
    ) async throws(RuntimeError) -> R {
        let caller = command.actingStaff.map(Self.caller) ?? .system
        let entity = EntityID.room(room)
        return try await perform(
            on: entity, { .command(entity, caller: caller, payload: command.encoded, origin: nil, answer: answer) },
            here: { () async throws(RuntimeError) -> R in
                guard let roomActors else { throw Self.unregistered(RoomState.kind.rawValue) }
                return try local(try await roomActors.run(command, on: entity, caller: caller, origin: nil))
            },
            remote: { reply throws(RuntimeError) in try remote(try reply.bytes()) })
    }

    /// The room as committed, read on this node (which serves it), if `caller` may read it:
    /// what the room's operations check first.
    func readableRoom(_ entity: EntityID, by caller: Caller) async throws(RuntimeError) -> RoomID {
        guard let roomActors else { throw Self.unregistered(RoomState.kind.rawValue) }
        return try await roomActors.state(of: entity, caller: caller).id
    }

    static func posted(_ outcome: RoomOutcome) throws(RuntimeError) -> (message: Message, replayed: Bool) {
        guard case let .applied(entries, _) = outcome else {
            guard case let .replayed(message, _) = outcome else { preconditionFailure("an outcome is applied or replayed") }
            return (message, true)
        }
        guard let message = entries.lazy.compactMap(\.event.postedMessage).first else {
            throw .internalFailure(code: "unexpected_outcome", message: "posting did not post")
        }
        return (message, false)
    }

    /// A brief post answer (`RoomHost.encode(_:brief:)`).
    static func decodedPost(_ bytes: [UInt8], in room: RoomID) throws(RuntimeError) -> (message: Message, replayed: Bool) {
        let (replayed, message) = try decodedAnswer(bytes, of: .room(room)) { (reader: inout BinaryReader) throws(DecodingError) -> (Bool, Message?) in
            let replayed = try reader.readBool()
            return (replayed, try reader.readBool() ? try Message.decode(from: &reader) : nil)
        }
        guard let message else { throw .internalFailure(code: "unexpected_outcome", message: "posting did not post") }
        return (message, replayed)
    }

    private func changedMessage(_ outcome: RoomOutcome) throws(RuntimeError) -> Message {
        guard case let .applied(entries, _) = outcome, let message = entries.lazy.compactMap(\.event.changedMessage).first else {
            throw .internalFailure(code: "unexpected_outcome", message: "the message did not change")
        }
        return message
    }

    /// Reads an answer with `body`, which must read all of `bytes`.
    static func decodedAnswer<Value>(_ bytes: [UInt8], of entity: EntityID, _ body: (inout BinaryReader) throws(DecodingError) -> Value) throws(RuntimeError) -> Value {
        var reader = BinaryReader(bytes)
        do {
            let value = try body(&reader)
            try reader.expectEnd()
            return value
        } catch {
            throw .internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "\(entity) was answered unreadably: \(error.message)")
        }
    }

    /// The rooms `staff` takes part in, most recent activity first (Recent Connections).
    public func recentConnections(of staff: StaffID) async throws(RuntimeError) -> [RecentConnection] {
        let account = try await staffAccount(staff)
        let rooms = account.rooms.filter(\.value.isMember).map(\.key).sorted()
        var connections: [RecentConnection] = []
        // The rooms' nodes are asked concurrently, a bounded number of rooms at a time.
        for start in stride(from: 0, to: rooms.count, by: Self.concurrentRoomReads) {
            let chunk = rooms[start..<min(start + Self.concurrentRoomReads, rooms.count)]
            await withTaskGroup(of: RecentConnection?.self) { group in
                for room in chunk { group.addTask { await self.connection(to: room, of: staff) } }
                for await connection in group { if let connection { connections.append(connection) } }
            }
        }
        return connections.sorted { ($0.lastActivity, $0.room.id.rawValue) > ($1.lastActivity, $1.room.id.rawValue) }
    }

    /// Rooms whose state Recent Connections reads at once.
    static let concurrentRoomReads = 32

    /// `room` as one of `staff`'s Recent Connections: its state and last message (read
    /// together); nil if it cannot be read (left or removed since the notice, the index catches
    /// up; or its node is unreachable).
    private func connection(to room: RoomID, of staff: StaffID) async -> RecentConnection? {
        async let state = try? self.room(room, reader: staff)
        async let page = try? messages(in: room, reader: staff, page: HistoryPage(limit: 1))
        guard let state = await state, let page = await page else { return nil }
        let last = page.first
        let joined = state.members[staff]?.joinedAt ?? state.profile?.createdAt ?? Timestamp(milliseconds: 0)
        return RecentConnection(room: state, lastMessage: last, lastActivity: max(last?.postedAt ?? joined, joined))
    }
}

import ParleyCluster
import ParleyDomain
import Testing

@testable import ParleyRuntime

@Suite("Entity call codec")
struct EntityCallCodecTests {
    static let room = RoomID(unchecked: "r_1")
    static let bo = StaffID(unchecked: "bo")
    static let attachment = FileAttachment(id: "f_1", name: "a.txt", contentType: "text/plain", size: 3, sha256: Array(repeating: 1, count: 32), chunkCount: 1)

    static let calls: [EntityCall] = [
        .roomCommand(room, .markRead(upTo: 3, by: bo)),
        .postMessage(room, MessagePost(author: bo, text: "hi", idempotencyKey: "k", replyTo: 3)),
        .roomState(room, reader: bo),
        .message(room, seq: 7, reader: bo),
        .messages(room, reader: bo, HistoryPage(after: 3, before: nil, limit: 20)),
        .journal(room, reader: bo, after: 12, limit: 500),
        .uploadFile(FileUpload(room: room, staff: bo, name: "a.txt", contentType: "text/plain", bytes: [1, 2, 3], sha256: Array(repeating: 1, count: 32), caption: "c", idempotencyKey: "k")),
        .file(room, file: "f_1", reader: bo),
        .fileBytes(room, attachment, range: 1..<3),
        .command(.staff(bo), caller: .staff(bo, role: .agent), payload: StaffCommand.removeShortcut(code: "x").encoded, origin: nil, reply: true),
        .command(
            .channel(ChannelID(unchecked: "c_1")), caller: .entity(.room(room)), payload: [1, 2],
            origin: EffectOrigin(source: .room(room), seq: 1 << 20 | 3), reply: false),
        .command(EntityID(kind: .index, key: "channels"), caller: .system, payload: [], origin: nil, reply: false),
        .read(.staff(bo), caller: .visitor("v_1"), name: "mentions", payload: [50]),
        .read(.channel(ChannelID(unchecked: "c_1")), caller: .channel(ChannelID(unchecked: "c_1")), name: "", payload: []),
        .fireTimer(EntityID(kind: .enquiry, key: "q_1"), tag: "offer", deadline: Timestamp(milliseconds: 1_700_000_000_000)),
    ]

    @Test(arguments: calls)
    func callsRoundTrip(_ call: EntityCall) throws {
        #expect(try EntityCallCodec.decodeCall(EntityCallCodec.encode(call)) == call)
    }

    @Test func repliesAndErrorsRoundTrip() throws {
        var state = RoomState(id: Self.room)
        state.apply(.created(RoomProfile(kind: .space, name: "S", description: "", visibility: .public, createdBy: Self.bo, createdAt: Timestamp(milliseconds: 1)), members: [Self.bo]))
        let message = Message(seq: 1, author: Self.bo, text: "hi", postedAt: Timestamp(milliseconds: 2), idempotencyKey: nil)
        let entries = [JournalEntry(room: Self.room, eventSeq: 2, event: .messagePosted(message))]
        let replies: [EntityReply] = [
            .room(.applied(entries, state)), .room(.replayed(message, state)), .roomState(state), .message(message), .messages([message, message]),
            .journal(entries, oldestKept: 1), .journal([], oldestKept: nil), .posted(message, replayed: true), .file(Self.attachment),
            .bytes([9, 8]), .bytes(StaffState(id: Self.bo).encoded), .done,
        ]
        for reply in replies {
            #expect(try EntityCallCodec.decodeResult(EntityCallCodec.encode(.success(reply))) == .success(reply))
        }
        let errors: [RuntimeError] = [
            .rejected(DomainError(.notAMember, "bo is not a member")), .unavailable(code: "log_shutting_down", message: "m"),
            .internalFailure(code: "x", message: "y"), .servedElsewhere(PartitionID(3), serving: "node-2 (clients: 127.0.0.1:8102)"),
        ]
        for error in errors {
            #expect(try EntityCallCodec.decodeResult(EntityCallCodec.encode(.failure(error))) == .failure(error))
        }
    }

    @Test func presenceAndCredentialsRoundTrip() throws {
        let presence = StaffPresence(staff: Self.bo, sessions: [NodeID("node-2")!: 2, NodeID("node-1")!: 1])
        #expect(try StaffPresence.decode(presence.encoded) == presence)
        let credentials = StaffCredentials(tokenHash: Array(repeating: 4, count: 32), role: .agent)
        #expect(try StaffCredentials.decode(credentials.encoded) == credentials)
    }

    @Test func malformedCallsAreRefused() {
        let good = EntityCallCodec.encode(.roomState(Self.room, reader: Self.bo))
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall([]) }
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall([EntityCallCodec.formatVersion + 1] + good.dropFirst()) }  // a format this node does not read
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall(Array(good.dropLast())) }
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall(good + [0]) }
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall([1, 0xEE]) }
    }
}

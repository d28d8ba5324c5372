import ParleyCluster
import ParleyDomain
import Testing

@testable import ParleyRuntime

@Suite("Entity call codec")
struct EntityCallCodecTests {
    static let room = RoomID(unchecked: "r_1")
    static let bo = StaffID(unchecked: "bo")
    static let attachment = FileAttachment(id: "f_1", name: "a.txt", contentType: "text/plain", size: 3, sha256: Array(repeating: 1, count: 32), chunkCount: 1)

    static let upload = FileUpload(
        room: room, staff: bo, name: "a.txt", contentType: "text/plain", bytes: [1, 2, 3], sha256: Array(repeating: 1, count: 32), caption: "c", idempotencyKey: "k")

    static let calls: [EntityCall] = [
        .command(.room(room), caller: .staff(bo, role: .agent), payload: RoomCommand.markRead(upTo: 3, by: bo).encoded, origin: nil, answer: .outcome),
        .command(
            .room(room), caller: .staff(bo, role: .admin), payload: RoomCommand.post(MessagePost(author: bo, text: "hi", idempotencyKey: "k", replyTo: 3)).encoded,
            origin: nil, answer: .briefOutcome),
        .read(.room(room), caller: .staff(bo, role: .agent), name: "", payload: []),
        .read(.room(room), caller: .staff(bo, role: .agent), name: "upload", payload: upload.encoded),
        .command(.staff(bo), caller: .staff(bo, role: .agent), payload: StaffCommand.removeShortcut(code: "x").encoded, origin: nil, answer: .state),
        .command(
            .channel(ChannelID(unchecked: "c_1")), caller: .entity(.room(room)), payload: [1, 2],
            origin: EffectOrigin(source: .room(room), seq: 1 << 20 | 3), answer: .none),
        .command(EntityID(kind: .index, key: "channels"), caller: .system, payload: [], origin: nil, answer: .none),
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
        let replies: [EntityReply] = [.bytes([9, 8]), .bytes(StaffState(id: Self.bo).encoded), .bytes([]), .done]
        for reply in replies {
            #expect(try EntityCallCodec.decodeResult(EntityCallCodec.encode(.success(reply))) == .success(reply))
        }
        // What rooms answer inside `bytes`: outcomes in full, a post briefly, uploads.
        for outcome in [RoomOutcome.applied(entries, state), .replayed(message, state), .applied([], state)] {
            #expect(try RoomOutcome.decode(RoomHost.encode(outcome, brief: false)) == outcome)
        }
        let brief = try NodeRuntime.decodedPost(RoomHost.encode(.replayed(message, state), brief: true), in: Self.room)
        #expect(brief.message == message && brief.replayed)
        #expect(try NodeRuntime.decodedPost(RoomHost.encode(.applied(entries, state), brief: true), in: Self.room).message == message)
        #expect(try FileUpload.decode(Self.upload.encoded) == Self.upload)
        #expect(try FileAttachment.decode(Self.attachment.encoded) == Self.attachment)
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
        let good = EntityCallCodec.encode(.read(.room(Self.room), caller: .staff(Self.bo, role: .agent), name: "", payload: []))
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall([]) }
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall([EntityCallCodec.formatVersion + 1] + good.dropFirst()) }  // a format this node does not read
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall(Array(good.dropLast())) }
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall(good + [0]) }
        #expect(throws: DecodingError.self) { try EntityCallCodec.decodeCall([1, 0xEE]) }
    }
}

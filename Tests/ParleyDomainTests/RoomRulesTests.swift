import Testing

@testable import ParleyDomain

@Suite("Room rules")
struct RoomRulesTests {
    let admin = StaffID(unchecked: "admin")
    let bo = StaffID(unchecked: "bo")
    let outsider = StaffID(unchecked: "eve")
    let now = Timestamp(milliseconds: 1_000)

    func createdRoom() throws -> RoomState {
        var room = RoomState(id: RoomID(unchecked: "r1"))
        for event in try room.decide(.create(RoomCreation(kind: .space, name: " Team ", members: [bo, admin], creator: admin)), now: now) {
            room.apply(event)
        }
        return room
    }

    @Test func creatingASpaceMakesTheCreatorAMemberOnce() throws {
        let room = try createdRoom()
        #expect(room.exists)
        #expect(Set(room.members.keys) == [admin, bo])
        #expect(room.profile?.name == "Team")
        #expect(room.profile?.createdAt == now)
        #expect(room.lastSeq == 0)
    }

    @Test func creationRulesRefuseBadInput() throws {
        let fresh = RoomState(id: RoomID(unchecked: "r1"))
        func code(_ creation: RoomCreation, limits: RoomLimits = RoomLimits()) -> DomainError.Code? {
            do {
                _ = try fresh.decide(.create(creation), now: now, limits: limits)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(RoomCreation(kind: .space, name: "   ", creator: admin)) == .invalidArgument)
        #expect(code(RoomCreation(kind: .space, name: String(repeating: "n", count: 101), creator: admin)) == .invalidArgument)
        #expect(code(RoomCreation(kind: .space, name: "ok", description: String(repeating: "d", count: 1_001), creator: admin)) == .invalidArgument)
        #expect(code(RoomCreation(kind: .enquiry, name: "ok", creator: admin)) == .unsupportedRoomKind)
        #expect(code(RoomCreation(kind: .direct, name: "", members: [bo, outsider], creator: admin)) == .invalidArgument)
        #expect(code(RoomCreation(kind: .direct, name: "", creator: admin)) == nil, "notes to self")
        var small = RoomLimits()
        small.maxMembers = 2
        #expect(code(RoomCreation(kind: .space, name: "ok", members: [bo, outsider], creator: admin), limits: small) == .tooManyMembers)
        let existing = try createdRoom()
        #expect(throws: DomainError(.roomAlreadyExists, "room r1 already exists")) {
            try existing.decide(.create(RoomCreation(kind: .space, name: "again", creator: admin)), now: now)
        }
    }

    /// The room becomes unread only for members who had read everything, by others' posts;
    /// an author's own post (read by them in the same command) notices them nothing.
    @Test func noticesAreOwedOnlyForUnreadTransitions() throws {
        var room = try createdRoom()
        func post(_ author: StaffID, _ text: String) throws -> [(staff: StaffID, eventSeq: UInt64, notice: StaffNotice)] {
            let before = room
            let events = try room.decide(.post(MessagePost(author: author, text: text)), now: now)
            for event in events { room.apply(event) }
            return RoomNotices.compute(before: before, events: events)
        }
        let first = try post(admin, "one")
        #expect(first.map(\.staff) == [bo] && first.map(\.notice) == [.unread(true)])
        #expect(try post(admin, "two").isEmpty, "the author, caught up, owes nothing; bo was already told")
        let reply = try post(bo, "three")
        #expect(reply.map(\.staff) == [admin, bo] && reply.map(\.notice) == [.unread(true), .unread(false)], "bo read all by replying")
    }

    @Test func postingAssignsTheNextSequenceNumber() throws {
        var room = try createdRoom()
        for expected in UInt64(1)...3 {
            let events = try room.decide(.post(MessagePost(author: bo, text: "m\(expected)", idempotencyKey: "k\(expected)")), now: now)
            guard case let .messagePosted(message) = events.first else {
                Issue.record("no message event")
                return
            }
            #expect(message.seq == expected)
            #expect(message.idempotencyKey == "k\(expected)")
            room.apply(events[0])
        }
        #expect(room.lastSeq == 3)
    }

    @Test func postingRulesRefuseBadInput() throws {
        let room = try createdRoom()
        func code(_ post: MessagePost, on state: RoomState? = nil) -> DomainError.Code? {
            do {
                _ = try (state ?? room).decide(.post(post), now: now)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(MessagePost(author: outsider, text: "hi")) == .notAMember)
        #expect(code(MessagePost(author: bo, text: " \n\t")) == .emptyMessage)
        #expect(code(MessagePost(author: bo, text: String(repeating: "x", count: 10_001))) == .messageTooLong)
        #expect(code(MessagePost(author: bo, text: "hi", idempotencyKey: "")) == .invalidArgument)
        #expect(code(MessagePost(author: bo, text: "hi", idempotencyKey: String(repeating: "k", count: 129))) == .invalidArgument)
        #expect(code(MessagePost(author: bo, text: "hi"), on: RoomState(id: RoomID(unchecked: "r2"))) == .roomNotFound)
        #expect(code(MessagePost(author: bo, text: String(repeating: "x", count: 10_000))) == nil)
    }

    @Test func aRetriedPostReplaysOnlyTheSameMessage() throws {
        let existing = Message(seq: 4, author: bo, text: "hi", postedAt: now, idempotencyKey: "k")
        #expect(try MessagePost(author: bo, text: "hi", idempotencyKey: "k").replay(of: existing) == existing)
        #expect(throws: DomainError.self) { try MessagePost(author: bo, text: "other", idempotencyKey: "k").replay(of: existing) }
        #expect(throws: DomainError.self) { try MessagePost(author: admin, text: "hi", idempotencyKey: "k").replay(of: existing) }
    }

    @Test func applyingIsDeterministicWhateverTheReplica() throws {
        let room = try createdRoom()
        let events = try room.decide(.post(MessagePost(author: bo, text: "hi")), now: now)
        var replicaA = RoomState(id: room.id, profile: room.profile, members: room.members, lastSeq: room.lastSeq, lastEventSeq: room.lastEventSeq)
        var replicaB = replicaA
        events.forEach { replicaA.apply($0) }
        events.forEach { replicaB.apply($0) }
        #expect(replicaA == replicaB)
        #expect(replicaA.lastSeq == 1)
    }
}

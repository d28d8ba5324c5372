import Foundation
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Synchronization
import Testing

@testable import ParleyRuntime

@Suite("Room runtime")
struct RoomRuntimeTests {
    @Test func createPostAndReadHistory() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Team", members: [bo], creator: admin))
            #expect(Set(room.members.keys) == [admin, bo])
            let first = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "hello"))
            let second = try await runtime.postMessage(in: room.id, MessagePost(author: bo, text: "hi"))
            #expect((first.message.seq, second.message.seq) == (1, 2))
            #expect(!first.replayed)
            let history = try await runtime.messages(in: room.id, reader: bo, page: HistoryPage())
            #expect(history.map(\.text) == ["hello", "hi"])
            #expect(try await runtime.room(room.id, reader: admin).lastSeq == 2)
        }
    }

    @Test func concurrentPostsGetOneGaplessOrder() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Busy", creator: admin))
            let seqs = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for i in 0..<200 {
                    group.addTask { try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "m\(i)")).message.seq }
                }
                var all: [UInt64] = []
                for try await seq in group { all.append(seq) }
                return all
            }
            #expect(seqs.sorted() == Array(1...200))
            var history: [Message] = []
            var after: UInt64 = 0
            for _ in 0..<10 {
                let page = try await runtime.messages(in: room.id, reader: admin, page: HistoryPage(after: after, limit: 50))
                guard let last = page.last else { break }
                history += page
                after = last.seq
            }
            #expect(history.map(\.seq) == Array(1...200))
            #expect(Set(history.map(\.text)).count == 200)
        }
    }

    @Test func historyPagesBackwardAndForward() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Pages", creator: admin))
            for i in 1...10 { _ = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "m\(i)")) }
            let latest = try await runtime.messages(in: room.id, reader: admin, page: HistoryPage(limit: 3))
            #expect(latest.map(\.seq) == [8, 9, 10])
            let earlier = try await runtime.messages(in: room.id, reader: admin, page: HistoryPage(before: 8, limit: 3))
            #expect(earlier.map(\.seq) == [5, 6, 7])
            let forward = try await runtime.messages(in: room.id, reader: admin, page: HistoryPage(after: 8, limit: 5))
            #expect(forward.map(\.seq) == [9, 10])
            let between = try await runtime.messages(in: room.id, reader: admin, page: HistoryPage(after: 2, before: 5, limit: 50))
            #expect(between.map(\.seq) == [3, 4])
        }
    }

    @Test func idempotencyKeyReturnsTheOriginalMessage() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Retry", creator: admin))
            let original = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "once", idempotencyKey: "k-1"))
            let retry = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "once", idempotencyKey: "k-1"))
            #expect(retry.replayed)
            #expect(retry.message == original.message)
            await #expect(throws: RuntimeError.rejected(DomainError(.idempotencyKeyReused, "idempotency key k-1 was already used for a different message"))) {
                try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "different", idempotencyKey: "k-1"))
            }
            #expect(try await runtime.room(room.id, reader: admin).lastSeq == 1)
        }
    }

    /// A key belongs to its author: another member's same key is another post, neither
    /// refused nor answered with the first member's message; each author's retry still replays.
    @Test func idempotencyKeysBelongToTheirAuthor() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Keys", members: [bo], creator: admin))
            let mine = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "mine", idempotencyKey: "k"))
            let theirs = try await runtime.postMessage(in: room.id, MessagePost(author: bo, text: "theirs", idempotencyKey: "k"))
            #expect(!theirs.replayed)
            #expect(theirs.message.seq == mine.message.seq + 1 && theirs.message.author == bo)
            #expect(try await runtime.postMessage(in: room.id, MessagePost(author: bo, text: "theirs", idempotencyKey: "k")).message == theirs.message)
            #expect(try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "mine", idempotencyKey: "k")).message == mine.message)
            // Concurrent posts of one key by two authors: each gets its own message.
            async let first = runtime.postMessage(in: room.id, MessagePost(author: admin, text: "a", idempotencyKey: "same"))
            async let second = runtime.postMessage(in: room.id, MessagePost(author: bo, text: "b", idempotencyKey: "same"))
            let (a, b) = try await (first, second)
            #expect(a.message.seq != b.message.seq && !a.replayed && !b.replayed)
        }
    }

    @Test func refusalsChangeNothing() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Private", creator: admin))
            func code(_ body: () async throws -> Void) async -> String? {
                do {
                    try await body()
                    return nil
                } catch let error as RuntimeError {
                    return error.code
                } catch {
                    return "\(error)"
                }
            }
            #expect(await code { _ = try await runtime.postMessage(in: room.id, MessagePost(author: eve, text: "hi")) } == "not_a_member")
            #expect(await code { _ = try await runtime.messages(in: room.id, reader: eve, page: HistoryPage()) } == "not_a_member")
            #expect(await code { _ = try await runtime.postMessage(in: RoomID(unchecked: "r_missing"), MessagePost(author: admin, text: "hi")) } == "room_not_found")
            #expect(await code { _ = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "  ")) } == "empty_message")
            #expect(try await runtime.room(room.id, reader: admin).lastSeq == 0)
        }
    }

    @Test func idleEntitiesPassivateAndReactivateFromAppliedState() async throws {
        var configuration = RuntimeConfiguration()
        configuration.passivateAfter = .seconds(60)
        try await withRuntime(configuration: configuration) { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Sleepy", creator: admin))
            _ = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "before"))
            #expect(runtime.isActive(room.id))
            // The creator's notices are delivered first (the outbox relay activates their account).
            #expect(try await ReplicatedRuntimeTests.eventually {
                try EntitySeamTests.effectRecords(runtime) == 0
            })
            #expect(runtime.passivateIdle(now: .now) == 0)
            #expect(runtime.passivateIdle(now: .now + .seconds(61)) >= 1)
            #expect(!runtime.isActive(room.id))
            #expect(runtime.activeEntities == 0)
            let after = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "after"))
            #expect(after.message.seq == 2)
            #expect(runtime.isActive(room.id))
        }
    }

    @Test func stateSurvivesReopen() async throws {
        let dir = NSTemporaryDirectory() + "parley-runtime-reopen-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let room = try await withRuntime(directory: dir) { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Durable", members: [bo], creator: admin))
            for i in 1...5 { _ = try await runtime.postMessage(in: room.id, MessagePost(author: bo, text: "m\(i)", idempotencyKey: "k\(i)")) }
            return room.id
        }
        try await withRuntime(directory: dir) { runtime in
            let state = try await runtime.room(room, reader: bo)
            #expect(state.lastSeq == 5)
            #expect(state.profile?.name == "Durable")
            let replay = try await runtime.postMessage(in: room, MessagePost(author: bo, text: "m3", idempotencyKey: "k3"))
            #expect(replay.replayed && replay.message.seq == 3)
            #expect(try await runtime.postMessage(in: room, MessagePost(author: bo, text: "m6")).message.seq == 6)
        }
    }

    @Test func aRefusedCommitRetiresTheActorAndNothingIsHalfApplied() async throws {
        let applier = SwitchableApplier()
        try await withRuntime(applier: applier) { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Fenced", creator: admin))
            _ = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "one"))
            applier.refusing.store(true, ordering: .relaxed)
            do {
                _ = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "refused"))
                Issue.record("a refused commit was acknowledged")
            } catch let error as RuntimeError {
                #expect(error.code == ClusterError.Code.rejected.rawValue)
            }
            applier.refusing.store(false, ordering: .relaxed)
            // The actor decided seq 2 in memory before the refusal; a fresh activation must
            // decide seq 2 again from the applied state, not seq 3.
            let next = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "two"))
            #expect(next.message.seq == 2)
            let history = try await runtime.messages(in: room.id, reader: admin, page: HistoryPage())
            #expect(history.map(\.text) == ["one", "two"])
        }
    }
}

/// Records what the runtime publishes live.
final class RecordingSink: RoomEventSink {
    let published = Mutex<[JournalEntry]>([])

    func publish(_ entries: [JournalEntry], room: RoomState) {
        published.withLock { $0.append(contentsOf: entries) }
    }
}

@Suite("Room journal and live publication")
struct RoomJournalTests {
    @Test func concurrentCommandsArePublishedInJournalOrderWithoutGaps() async throws {
        let sink = RecordingSink()
        let dir = NSTemporaryDirectory() + "parley-journal-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try LocalPartitionLog.openDatabase(at: dir + "/db", stateInsertHints: NodeRuntime.stateInsertHints)
        defer { database.close() }
        let log = try LocalPartitionLog(database: database, partitionCount: 4, stateMachine: EntityStateApplier())
        let runtime = NodeRuntime(database: database, stateFamily: log.stateColumnFamily, log: log, clock: ManualClock(), events: sink)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await log.run() }
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Live", members: [bo], creator: admin))
            try await withThrowingTaskGroup(of: Void.self) { posts in
                for i in 0..<100 {
                    posts.addTask { _ = try await runtime.postMessage(in: room.id, MessagePost(author: i % 2 == 0 ? admin : bo, text: "m\(i)")) }
                }
                try await posts.waitForAll()
            }
            let published = sink.published.withLock { $0 }
            #expect(published.map(\.eventSeq) == Array(1...201))
            let journal = try await runtime.journal(of: room.id, reader: bo, after: 0, limit: 500)
            #expect(journal.entries == published)
            let posted = published.compactMap { entry -> UInt64? in
                if case let .messagePosted(message) = entry.event { return message.seq }
                return nil
            }
            #expect(posted == Array(1...100))
            log.close()
        }
    }
}

@Suite("Files in the partition")
struct FileRuntimeTests {
    @Test func fileBytesSurviveReopenAndNeedMembership() async throws {
        let dir = NSTemporaryDirectory() + "parley-files-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (room, attachment) = try await withRuntime(directory: dir) { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Docs", members: [bo], creator: admin))
            let posted = try await runtime.uploadFile(
                to: room.id, by: bo, name: "spec.pdf", contentType: "application/pdf", bytes: bytes, sha256: Array(repeating: 1, count: 32))
            return (room.id, try #require(posted.message.attachment))
        }
        #expect(attachment.chunkCount == 2 && attachment.kind == .document)
        try await withRuntime(directory: dir) { runtime in
            let found = try await runtime.file(attachment.id, in: room, reader: admin)
            #expect(try await runtime.fileBytes(found, in: room, range: 0..<found.size) == bytes)
            #expect(try await runtime.fileBytes(found, in: room, range: 262_000..<262_200) == Array(bytes[262_000..<262_200]))
            await #expect(throws: RuntimeError.self) { try await runtime.file(attachment.id, in: room, reader: eve) }
            await #expect(throws: RuntimeError.self) { try await runtime.file("f_missing", in: room, reader: admin) }
        }
    }
}

extension FileRuntimeTests {
    @Test func orphanUploadsAreDiscardedAfterTheGraceAndCannotBePostedThen() async throws {
        try await withRuntime { runtime in
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Docs", members: [bo], creator: admin))
            let bytes = [UInt8](repeating: 7, count: 300_000)
            let checksum = [UInt8](repeating: 1, count: 32)
            // A posted upload leaves nothing pending.
            let kept = try await runtime.uploadFile(to: room.id, by: bo, name: "a.pdf", contentType: "application/pdf", bytes: bytes, sha256: checksum)
            #expect(try await runtime.pendingUploads().isEmpty)
            // An upload whose post is refused (caption too long) leaves its chunks pending.
            await #expect(throws: RuntimeError.self) {
                try await runtime.uploadFile(
                    to: room.id, by: bo, name: "b.pdf", contentType: "application/pdf", bytes: bytes, sha256: checksum,
                    caption: String(repeating: "x", count: 10_001))
            }
            let pending = try await runtime.pendingUploads()
            #expect(pending.count == 1 && pending.first?.room == room.id)
            let orphan = try #require(pending.first)
            let chunkPrefix = RoomStore.key(runtime.store.partition(of: room.id), room.id, .fileChunk, Array(orphan.file.utf8) + [0])
            #expect(try runtime.store.database.entries(.prefix(chunkPrefix), in: runtime.store.family).count == 2)

            // Seen once: not yet; seen again after the grace: discarded.
            var orphans = OrphanUploads()
            let start = ContinuousClock.now
            #expect(orphans.observe(pending, at: start, grace: .seconds(60)).isEmpty)
            #expect(orphans.observe(pending, at: start + .seconds(30), grace: .seconds(60)).isEmpty)
            let due = orphans.observe(pending, at: start + .seconds(61), grace: .seconds(60))
            #expect(due == pending)
            #expect(try await runtime.discardUpload(orphan))
            #expect(try await runtime.discardUpload(orphan) == false)
            #expect(try await runtime.pendingUploads().isEmpty)
            #expect(try runtime.store.database.entries(.prefix(chunkPrefix), in: runtime.store.family).isEmpty)

            // A late post of the discarded upload is refused; the kept file is untouched.
            let late = FileAttachment(id: orphan.file, name: "b.pdf", contentType: "application/pdf", size: 300_000, sha256: checksum, chunkCount: 2)
            do {
                _ = try await runtime.postMessage(in: room.id, MessagePost(author: bo, text: "", attachment: late))
                Issue.record("a discarded upload was posted")
            } catch {
                #expect((error as? RuntimeError)?.code == DomainError.Code.fileNotFound.rawValue)
            }
            let attachment = try #require(kept.message.attachment)
            #expect(try await runtime.fileBytes(attachment, in: room.id, range: 0..<attachment.size) == bytes)
            #expect(try await runtime.discardUpload(PendingUpload(room: room.id, file: attachment.id)) == false)
        }
    }
}

@Suite("Enquiry rooms")
struct EnquiryRoomTests {
    @Test func enquiryRoomsCarryTheirInformationAndStaffAddVisitorFields() async throws {
        let dir = NSTemporaryDirectory() + "parley-enquiry-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let information = RoomInformation(
            enquiry: EnquiryInfo(id: "enq-1", channel: "web widget", channelDetail: "pricing page", language: "en", location: "HK", time: Timestamp(milliseconds: 5)),
            visitor: [.init(name: "first_name", value: "Ada"), .init(name: "email", value: "ada@example.com")],
            device: DeviceInfo(platform: "macOS", userAgent: "Safari", screenSize: "1440x900", localTime: "10:00", geoLocation: "22.3,114.2"),
            utm: [.init(name: "utm_source", value: "newsletter"), .init(name: "utm_memberid", value: "42")],
            destination: DestinationInfo(name: "Sales", type: "team", endpoint: "sales@example.com"))
        let room = try await withRuntime(directory: dir) { runtime in
            let room = try await runtime.openEnquiryRoom(EnquiryOpening(title: "Ada from pricing", staff: [bo], information: information))
            #expect(room.profile?.kind == .enquiry && room.information == information)
            let updated = try await runtime.update(room.id, .setVisitorField(name: "plan", value: "gold", by: bo))
            #expect(updated.information.visitor.last == .init(name: "plan", value: "gold"))
            await #expect(throws: RuntimeError.self) {
                try await runtime.update(room.id, .setVisitorField(name: "x", value: "y", by: eve))
            }
            await #expect(throws: RuntimeError.self) {
                try await runtime.openEnquiryRoom(EnquiryOpening(
                    title: "bad", staff: [bo], information: RoomInformation(utm: [.init(name: "source", value: "x")])))
            }
            return room.id
        }
        try await withRuntime(directory: dir) { runtime in
            let reloaded = try await runtime.room(room, reader: bo)
            #expect(reloaded.information.enquiry?.channel == "web widget")
            #expect(reloaded.information.visitor.map(\.name) == ["first_name", "email", "plan"])
            #expect(reloaded.information.utm.count == 2 && reloaded.information.destination?.name == "Sales")
        }
    }
}

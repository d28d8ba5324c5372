import Foundation
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Synchronization
import Testing

@testable import ParleyRuntime

/// Reads see only what committed: a message decided but not yet durable (its entry held back
/// on its way to the log) is not found, and an edit still on its way leaves the committed text.
@Suite("Committed reads")
struct CommittedReadsTests {
    @Test func aMessageOrAnEditNotYetCommittedIsNotReadUntilItCommits() async throws {
        let dir = NSTemporaryDirectory() + "parley-committed-reads-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let database = try LocalPartitionLog.openDatabase(at: dir + "/db", stateInsertHints: NodeRuntime.stateInsertHints)
        defer { database.close() }
        let log = try LocalPartitionLog(database: database, partitionCount: 16, stateMachine: EntityStateApplier())
        let gate = HeldAppends(log)
        let runtime = NodeRuntime(database: database, stateFamily: log.stateColumnFamily, log: gate, clock: ManualClock())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await log.run() }
            let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Held", members: [bo], creator: admin))
            let first = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "committed")).message

            gate.hold()
            group.addTask { _ = try await runtime.postMessage(in: room.id, MessagePost(author: admin, text: "on its way")) }
            group.addTask { _ = try await runtime.edit(first.seq, in: room.id, text: "edited, on its way", by: admin) }
            #expect(try await gate.waitUntilHolding(2))

            func message(_ seq: UInt64) async throws -> Message {
                var writer = BinaryWriter()
                writer.writeVarint(seq)
                return try Message.decode(try await runtime.read(RoomHost.messageRead, of: .room(room.id), by: .staff(bo, role: .agent), payload: writer.bytes))
            }
            let read = try await message(first.seq)
            #expect(read.text == "committed")
            await #expect(throws: RuntimeError.self) { try await message(first.seq + 1) }
            #expect(try await runtime.room(room.id, reader: bo).lastSeq == first.seq)

            try await gate.release()
            try await group.next()
            try await group.next()
            #expect(try await message(first.seq).text == "edited, on its way")
            #expect(try await message(first.seq + 1).text == "on its way")
            log.close()
            try await group.waitForAll()
        }
    }
}

/// The real log, with a switch that holds appends back (in order) until released: what an
/// entry on its way to a slow quorum looks like to the actor that decided it.
final class HeldAppends: PartitionLog {
    private struct Held {
        let payload: [UInt8]
        let partition: PartitionID
        let generation: UInt64
        let ticket: AppendTicket
    }

    private let log: LocalPartitionLog
    private let held = Mutex<(holding: Bool, appends: [Held])>((false, []))

    init(_ log: LocalPartitionLog) { self.log = log }

    var partitionCount: Int { log.partitionCount }

    func generation(of partition: PartitionID) -> UInt64 { log.generation(of: partition) }

    func append(_ payload: [UInt8], to partition: PartitionID, generation: UInt64) -> AppendTicket {
        let ticket = AppendTicket()
        let holding = held.withLock { held in
            if held.holding { held.appends.append(Held(payload: payload, partition: partition, generation: generation, ticket: ticket)) }
            return held.holding
        }
        return holding ? ticket : log.append(payload, to: partition, generation: generation)
    }

    func hold() { held.withLock { $0.holding = true } }

    /// Waits (bounded: 5 s) until `count` appends are held.
    func waitUntilHolding(_ count: Int) async throws -> Bool {
        for _ in 0..<500 {
            if held.withLock({ $0.appends.count }) >= count { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Appends what was held, in order, and settles each held ticket as the log does.
    func release() async throws {
        let appends = held.withLock { held in
            defer { held = (false, []) }
            return held.appends
        }
        let tickets = appends.map { ($0.ticket, log.append($0.payload, to: $0.partition, generation: $0.generation)) }
        for (held, real) in tickets {
            do throws(ClusterError) {
                held.complete(.success(try await real.result()))
            } catch {
                held.complete(.failure(error))
            }
        }
    }
}

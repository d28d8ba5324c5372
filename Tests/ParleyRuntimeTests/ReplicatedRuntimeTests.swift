import Foundation
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Testing

@testable import ParleyRuntime

/// Three runtimes whose partitions are Raft groups over all three (in process): calls reach
/// whichever node leads, cross-entity notices are delivered by the leader and deleted on
/// every replica, and a leader cut off is replaced while calls through the other nodes go on.
@Suite("Runtime on replicated partitions (in process)")
struct ReplicatedRuntimeTests {
    static let tokenHash = ClusterRuntimeTests.tokenHash

    /// Creates al and bo and a room of both through different nodes, once every partition
    /// has a leader.
    static func setUp(_ cluster: InProcessCluster) async throws -> (al: StaffID, bo: StaffID, room: RoomID) {
        let al = StaffID(unchecked: "al")
        let bo = StaffID(unchecked: "bo")
        _ = try await cluster.node(3).runtime.staffCommand(.create(displayName: "Al", role: .agent, tokenHash: tokenHash), for: al)
        _ = try await cluster.node(1).runtime.staffCommand(.create(displayName: "Bo", role: .agent, tokenHash: tokenHash), for: bo)
        let room = try await cluster.node(2).runtime.createRoom(RoomCreation(kind: .space, name: "Sales", members: [bo], creator: al))
        return (al, bo, room.id)
    }

    /// Outbox records of every partition on `node`'s disk.
    static func outboxRecords(_ node: InProcessCluster.Node) throws -> Int {
        let family = node.log.stateColumnFamily
        return try (0..<16).reduce(0) { count, slot in
            count + (try node.database.entries(.prefix(Outbox.prefix(PartitionID(UInt16(slot)))), in: family).count)
                + (try node.database.entries(.prefix(PartitionRecords.effectsPrefix(PartitionID(UInt16(slot)))), in: family).count)
        }
    }

    static func eventually(_ limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func callsReachTheLeaderAndNoticesAreDeliveredThenDeletedOnEveryReplica() async throws {
        let cluster = try InProcessCluster(replicated: true)
        try await cluster.run { cluster in
            let (al, bo, room) = try await Self.setUp(cluster)
            let (posted, _) = try await cluster.node(1).runtime.postMessage(in: room, MessagePost(author: al, text: "hi @\(bo)", idempotencyKey: "k1"))
            #expect(posted.mentions == [bo])
            // The same post through another node is the same message.
            let (again, replayed) = try await cluster.node(3).runtime.postMessage(in: room, MessagePost(author: al, text: "hi @\(bo)", idempotencyKey: "k1"))
            #expect(replayed && again == posted)
            // bo's badge and mention, decided by whichever node leads his account, read anywhere.
            #expect(try await Self.eventually { try await cluster.node(2).runtime.staffAccount(bo).unreadRooms == 1 })
            #expect(try await Self.eventually { try await cluster.node(3).runtime.mentions(of: bo, limit: 10).map(\.seq) == [posted.seq] })
            // The outbox records were deleted through the log: no replica keeps them.
            #expect(try await Self.eventually { try cluster.nodes.allSatisfy { try Self.outboxRecords($0) == 0 } })
        }
    }

    @Test func aLeaderCutOffIsReplacedAndCallsThroughTheOtherNodesGoOn() async throws {
        let cluster = try InProcessCluster(replicated: true)
        try await cluster.run { cluster in
            let (al, _, room) = try await Self.setUp(cluster)
            let partition = cluster.node(1).runtime.partitioner.partition(for: EntityID.room(room).description)
            var acknowledged: [UInt64] = []
            for index in 0..<5 {
                acknowledged.append(try await cluster.node(1 + index % 3).runtime.postMessage(in: room, MessagePost(author: al, text: "before \(index)")).message.seq)
            }
            let leaderIndex = try #require(cluster.nodes.firstIndex { $0.runtime.configuration.servedPartitions.serves(partition) }) + 1
            cluster.network.setReachable(cluster.node(leaderIndex).id, false)
            // Calls through the two others go on: they retry until one of them leads.
            let others = [1, 2, 3].filter { $0 != leaderIndex }
            for index in 0..<6 {
                let seq = try await cluster.node(others[index % 2]).runtime.postMessage(
                    in: room, MessagePost(author: al, text: "after \(index)", idempotencyKey: "after-\(index)")).message.seq
                acknowledged.append(seq)
            }
            // One total order: consecutive room sequence numbers, none lost or repeated.
            #expect(acknowledged == (0..<11).map { acknowledged[0] + UInt64($0) })
            let newLeader = try #require(others.first { cluster.node($0).runtime.configuration.servedPartitions.serves(partition) })
            #expect(newLeader != leaderIndex)
            // The old leader comes back, catches up and serves reads of the same history.
            cluster.network.setReachable(cluster.node(leaderIndex).id, true)
            let texts = try await cluster.node(others[0]).runtime.messages(in: room, reader: al, page: HistoryPage()).map(\.text)
            #expect(texts.suffix(6) == (0..<6).map { "after \($0)" })
            #expect(try await Self.eventually {
                let history = try await cluster.node(leaderIndex).runtime.messages(in: room, reader: al, page: HistoryPage()).map(\.text)
                return history == texts
            })
        }
    }

    /// A node cut off from every other replica of a room's partition cannot get an answer: a call
    /// through it is refused at once (`partition_unreachable`, 503), so the client tries another
    /// node, instead of waiting out the forward timeout (15 s here); the others go on serving.
    @Test func aNodeCutOffFromEveryReplicaSaysSoAtOnce() async throws {
        let cluster = try InProcessCluster(replicated: true)
        try await cluster.run { cluster in
            let (al, _, room) = try await Self.setUp(cluster)
            let partition = cluster.node(1).runtime.partitioner.partition(for: EntityID.room(room).description)
            let leaderIndex = try #require(cluster.nodes.firstIndex { $0.runtime.configuration.servedPartitions.serves(partition) }) + 1
            let cutOff = [1, 2, 3].first { $0 != leaderIndex }!
            cluster.network.setReachable(cluster.node(cutOff).id, false)
            let started = ContinuousClock.now
            var refusal: RuntimeError?
            do {
                _ = try await cluster.node(cutOff).runtime.postMessage(in: room, MessagePost(author: al, text: "through the cut-off node"))
            } catch {
                refusal = error as? RuntimeError
            }
            #expect(refusal?.code == "partition_unreachable")
            #expect(ContinuousClock.now - started < .seconds(5), "refused at once, not after the forward timeout")
            let seq = try await cluster.node(leaderIndex).runtime.postMessage(in: room, MessagePost(author: al, text: "through the leader")).message.seq
            #expect(seq > 0)
            cluster.network.setReachable(cluster.node(cutOff).id, true)
            #expect(try await Self.eventually {
                (try? await cluster.node(cutOff).runtime.postMessage(in: room, MessagePost(author: al, text: "healed", idempotencyKey: "healed"))) != nil
            })
        }
    }
}

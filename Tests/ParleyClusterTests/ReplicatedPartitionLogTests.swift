import Foundation
import ParleyRaft
import ParleyStorage
import Testing

@testable import ParleyCluster

// Serialized: each case runs three nodes on 40-50 ms ticks; run side by side on a busy machine,
// starved drivers miss heartbeats and elections start mid-case.
@Suite("Replicated partition log (Raft over three in-process nodes)", .serialized)
struct ReplicatedPartitionLogTests {
    @Test func entriesCommitOnTheLeaderAndApplyOnEveryReplica() async throws {
        try await withReplicaCluster { cluster in
            for slot in 0..<4 {
                let partition = PartitionID(UInt16(slot))
                var indexes: [UInt64] = []
                for value in 0..<20 {
                    indexes.append(try await cluster.appendThroughServingNode([UInt8(slot), UInt8(value)], to: partition).index)
                }
                let leader = try await cluster.servingNode(of: partition)
                #expect(indexes == indexes.sorted() && Set(indexes).count == 20)
                // Every replica applies every acknowledged entry, with the same bytes.
                try await eventually("every replica applied \(partition)") {
                    try cluster.ids.allSatisfy { node in
                        try indexes.enumerated().allSatisfy { try cluster.applied(node, partition, $1) == [UInt8(slot), UInt8($0)] }
                    }
                }
                // One node serves the partition; the others know it as the leader.
                for node in cluster.ids where node != leader {
                    #expect(cluster.log(node)!.leadership(of: partition).servingHere == false)
                    #expect(cluster.log(node)!.leadership(of: partition).leader == leader)
                }
            }
        }
    }

    /// Replicas that applied the same entries hold the same state: their views at one applied
    /// index give one digest (the applied-index record, written at each replica's own times,
    /// left out), and a record changed under one replica shows in its digest and its records.
    @Test func replicasAtOneAppliedIndexReportOneDigest() async throws {
        try await withReplicaCluster { cluster in
            let partitions = (0..<4).map { PartitionID(UInt16($0)) }
            var last: [PartitionID: UInt64] = [:]
            for partition in partitions {
                for value in 0..<30 { last[partition] = try await cluster.appendThroughServingNode([partition.keyPrefix[1], UInt8(value)], to: partition).index }
            }
            var digests: [ParleyCluster.NodeID: [PartitionDigest]] = [:]
            // Until every replica applied every entry (bounded: 10 s).
            for _ in 0..<500 {
                for node in cluster.ids {
                    let view = try await cluster.log(node)!.appliedView(of: partitions)
                    defer { view.snapshot.release() }
                    digests[node] = try view.digests(database: cluster.database(node)!, state: cluster.log(node)!.stateColumnFamily)
                }
                if digests.values.allSatisfy({ $0.map(\.appliedIndex) == partitions.map { last[$0]! } }) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let reference = try #require(digests[cluster.ids[0]])
            #expect(reference.allSatisfy { $0.records > 0 && $0.digest.count == 64 })
            for node in cluster.ids { #expect(digests[node] == reference) }
            // A record changed on one replica only: its digest and its records show it.
            let changed = cluster.ids[1]
            let database = try #require(cluster.database(changed))
            let family = cluster.log(changed)!.stateColumnFamily
            var batch = WriteBatch()
            batch.put(partitions[2].keyPrefix + [0x7A], [1], in: family)
            try database.write(batch, durability: .unlogged)
            let view = try await cluster.log(changed)!.appliedView(of: partitions)
            defer { view.snapshot.release() }
            let after = try view.digests(database: database, state: family)
            #expect(after[2].digest != reference[2].digest && after[2].records == reference[2].records + 1)
            #expect(Array(after[0..<2]) == Array(reference[0..<2]))
            #expect(try view.records(of: partitions[2], database: database, state: family).contains { $0.key == partitions[2].keyPrefix + [0x7A] })
        }
    }

    @Test func followersRefuseNamingTheLeaderAndOldTermsAreFenced() async throws {
        try await withReplicaCluster { cluster in
            let partition = PartitionID(1)
            let leader = try await cluster.servingNode(of: partition)
            let follower = try #require(cluster.ids.first { $0 != leader })
            let followerLog = try #require(cluster.log(follower))
            // (A quorum of two may commit the leader's first entry before this follower heard of it.)
            try await eventually("the follower knows the leader") { followerLog.leadership(of: partition).leader == leader }
            #expect(followerLog.generation(of: partition) == 0)
            let refused = await #expect(throws: ClusterError.self) {
                try await followerLog.append([1], to: partition, generation: 1).result()
            }
            #expect(refused?.code == .notLeader)
            #expect(refused?.message.contains(leader.rawValue) == true)

            let leaderLog = try #require(cluster.log(leader))
            let term = leaderLog.generation(of: partition)
            let stale = await #expect(throws: ClusterError.self) {
                try await leaderLog.append([1], to: partition, generation: term - 1).result()
            }
            #expect(stale?.code == .stale)
            let unknown = await #expect(throws: ClusterError.self) {
                try await leaderLog.append([1], to: PartitionID(99), generation: term).result()
            }
            #expect(unknown?.code == .unknownPartition)
        }
    }

    @Test func aStoppedLeaderIsReplacedWithNothingAcknowledgedLostAndCatchesUpOnRestart() async throws {
        try await withReplicaCluster { cluster in
            let partition = PartitionID(0)
            var acknowledged: [(UInt64, [UInt8])] = []
            for value in 0..<30 {
                let position = try await cluster.appendThroughServingNode([0xA0, UInt8(value)], to: partition)
                acknowledged.append((position.index, [0xA0, UInt8(value)]))
            }
            let first = try await cluster.servingNode(of: partition)
            await cluster.stop(first)

            let second = try await cluster.servingNode(of: partition)
            #expect(second != first)
            #expect(try #require(cluster.log(second)).generation(of: partition) > 0)
            // The new leader has every entry the old one acknowledged, at the same index.
            for (index, bytes) in acknowledged { #expect(try cluster.applied(second, partition, index) == bytes) }
            for value in 0..<30 {
                let position = try await cluster.appendThroughServingNode([0xB0, UInt8(value)], to: partition)
                acknowledged.append((position.index, [0xB0, UInt8(value)]))
            }

            // The old leader comes back from its own disk and catches up as a follower.
            try cluster.start(first)
            try await eventually("the restarted node caught up") {
                try acknowledged.allSatisfy { try cluster.applied(first, partition, $0.0) == $0.1 }
            }
            #expect(cluster.log(first)!.leadership(of: partition).servingHere == false || cluster.log(second)!.leadership(of: partition).servingHere == false)
        }
    }

    @Test func aFollowerBehindTheCompactedLogCatchesUpFromASnapshotAndRestartsFromIt() async throws {
        // Chunks of about 200 bytes: the snapshot (150 entries' state) streams in many.
        try await withReplicaCluster(configure: { $0.retainedEntries = 20; $0.compactionCheckTicks = 4; $0.snapshotChunkBytes = 200 }) { cluster in
            let partition = PartitionID(2)
            let leader = try await cluster.servingNode(of: partition)
            let absent = try #require(cluster.ids.first { $0 != leader })
            await cluster.stop(absent)
            var acknowledged: [(UInt64, [UInt8])] = []
            for value in 0..<150 {
                let bytes = [0xC0, UInt8(value)]
                acknowledged.append((try await cluster.appendThroughServingNode(bytes, to: partition).index, bytes))
            }
            // The leader's log is compacted past what the absent node has.
            let database = try #require(cluster.database(try await cluster.servingNode(of: partition)))
            try await eventually("the leader compacted its log") {
                try database.get(ReplicaLayout.entryKey(partition, 1), in: database.family(ReplicaLayout.family)) == nil
            }
            try cluster.start(absent)
            try await eventually("the absent node caught up from a snapshot") {
                try acknowledged.allSatisfy { try cluster.applied(absent, partition, $0.0) == $0.1 }
            }
            let received = try #require(cluster.log(absent)).snapshotAssembler.counts
            #expect(received.snapshots >= 1)
            #expect(received.chunks >= 5 * received.snapshots)
            // It takes entries after the snapshot as usual, and restarts from its snapshot.
            let more = try await cluster.appendThroughServingNode([0xC1], to: partition)
            try await eventually("the caught-up node applied a later entry") { try cluster.applied(absent, partition, more.index) == [0xC1] }
            await cluster.stop(absent)
            try cluster.start(absent)
            let after = try await cluster.appendThroughServingNode([0xC2], to: partition)
            try await eventually("the restarted node applied an entry after its snapshot") {
                try cluster.applied(absent, partition, after.index) == [0xC2] && cluster.applied(absent, partition, acknowledged[0].0) == acknowledged[0].1
            }
        }
    }

    @Test func aNodeStoppingGracefullyHandsItsLeadershipsOverFirst() async throws {
        // 50 ms ticks: the hand-over may take up to 1 s (two election timeouts) on a busy machine.
        try await withReplicaCluster(configure: { $0.tickInterval = .milliseconds(50) }) { cluster in
            let partition = PartitionID(3)
            let leader = try await cluster.servingNode(of: partition)
            let log = try #require(cluster.log(leader))
            let before = try await log.append([0xD0], to: partition, generation: log.generation(of: partition)).result()
            await cluster.stop(leader, gracefully: true)
            // When the stop returns, another replica already leads: no election timeout to wait.
            let others = cluster.ids.filter { $0 != leader }
            #expect(others.contains { cluster.log($0)?.leadership(of: partition).leader != nil && cluster.log($0)?.leadership(of: partition).leader != leader })
            let successor = try await cluster.servingNode(of: partition, within: .seconds(1))
            #expect(successor != leader)
            let next = try #require(cluster.log(successor))
            let after = try await next.append([0xD1], to: partition, generation: next.generation(of: partition)).result()
            #expect(after.index > before.index && after.generation > before.generation)
            #expect(try cluster.applied(successor, partition, before.index) == [0xD0])
        }
    }

    @Test func aKilledLeadersPartitionsElectAtOnceWhenItsPeersAreToldItIsGone() async throws {
        // Election timeouts of 3 to 6 s: only the hint elects a successor sooner. (The bound
        // below leaves half a second to a machine busy with the other suites.)
        try await withReplicaCluster(configure: { $0.tickInterval = .milliseconds(20); $0.electionTicks = 150 }) { cluster in
            let partition = PartitionID(0)
            let first = try await cluster.servingNode(of: partition, within: .seconds(20))
            let before = try await cluster.appendThroughServingNode([0xF0], to: partition)
            // (The hint concerns followers that know the leader: a node that started last may
            // not have heard from it yet.)
            try await eventually("every node knows the leader") { cluster.ids.allSatisfy { cluster.log($0)?.leadership(of: partition).leader == first } }
            // Cut off silently (a crashed machine): nobody is told, so nobody elects for 3 s.
            cluster.network.setReachable(first, false)
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(cluster.ids.allSatisfy { $0 == first || cluster.log($0)?.leadership(of: partition).servingHere != true })
            // Killed (its connections close and its port refuses): the survivors are told, and
            // the partition's successor stands at once.
            let killed = ContinuousClock.now
            cluster.network.kill(first)
            var successor: ParleyCluster.NodeID?
            try await eventually("a survivor serves \(partition)", within: .milliseconds(2_500)) {
                successor = cluster.ids.first { $0 != first && cluster.log($0)?.leadership(of: partition).servingHere == true }
                return successor != nil
            }
            #expect(ContinuousClock.now - killed < .milliseconds(2_500), "well within the shortest election timeout (3 s)")
            let serving = try #require(successor)
            let next = try #require(cluster.log(serving))
            let after = try await next.append([0xF1], to: partition, generation: next.generation(of: partition)).result()
            #expect(after.index > before.index)
            #expect(try cluster.applied(serving, partition, before.index) == [0xF0])
        }
    }

    /// Messages a killed leader sent before it died can be read from its connection after the
    /// survivors were told it is gone; a late heartbeat must not undo the hint (the followers
    /// would wait out an election timeout). A peer held down is not heard.
    @Test func aGoneLeadersLateHeartbeatDoesNotUndoTheHint() async throws {
        // Election timeouts of 3 to 6 s: only the hint elects a successor sooner. (The bound
        // below leaves half a second to a machine busy with the other suites.)
        try await withReplicaCluster(configure: { $0.tickInterval = .milliseconds(20); $0.electionTicks = 150 }) { cluster in
            let partition = PartitionID(0)
            let first = try await cluster.servingNode(of: partition, within: .seconds(20))
            let before = try await cluster.appendThroughServingNode([0xF0], to: partition)
            try await eventually("every node knows the leader") { cluster.ids.allSatisfy { cluster.log($0)?.leadership(of: partition).leader == first } }
            let term = try #require(cluster.log(first)).leadership(of: partition).term
            let killed = ContinuousClock.now
            cluster.network.kill(first)
            for survivor in cluster.ids where survivor != first {
                let log = try #require(cluster.log(survivor))
                let heartbeat = Message(
                    kind: .heartbeat, from: log.ids.raftID(of: first), to: log.ids.raftID(of: survivor), term: term, commit: before.index)
                log.receivePosted(.raft, RaftCodec.encode([(UInt32(partition.rawValue), heartbeat)]), from: first)
                #expect(log.droppedFromDownPeers.load(ordering: .relaxed) == 1, "a peer held down is not heard")
            }
            try await eventually("a survivor serves \(partition)", within: .milliseconds(2_500)) {
                cluster.ids.contains { $0 != first && cluster.log($0)?.leadership(of: partition).servingHere == true }
            }
            #expect(ContinuousClock.now - killed < .milliseconds(2_500), "well within the shortest election timeout (3 s)")
        }
    }

    /// An append waiting at a leader that is cut off from its replicas learns nothing until the
    /// network heals: once it has stepped down (check-quorum), it is failed at once as of unknown
    /// outcome (retried elsewhere with its idempotency key), not after three election timeouts.
    @Test func anAppendAtACutOffLeaderFailsOnceItStepsDown() async throws {
        // Election timeouts of 1 to 2 s (40 ms ticks): three of them are 3 s at least.
        try await withReplicaCluster(configure: { $0.electionTicks = 25 }) { cluster in
            let partition = PartitionID(2)
            let leader = try await cluster.servingNode(of: partition)
            let log = try #require(cluster.log(leader))
            _ = try await log.append([0xD0], to: partition, generation: log.generation(of: partition)).result()
            cluster.network.setReachable(leader, false)
            let cut = ContinuousClock.now
            let ticket = log.append([0xD1], to: partition, generation: log.generation(of: partition))
            await #expect(throws: ClusterError.self) { _ = try await ticket.result() }
            #expect(ContinuousClock.now - cut < .milliseconds(3_500), "failed on stepping down (1 to 2 election timeouts), not 3 after it (4 to 5 s)")
        }
    }

    @Test func readsAreConfirmedByAQuorumAndALeaderCutOffRefusesThemWhileItStillBelievesItLeads() async throws {
        // Election timeouts of 1 to 2 s: the cut-off leader keeps believing it leads meanwhile.
        try await withReplicaCluster(configure: { $0.electionTicks = 40 }) { cluster in
            let partition = PartitionID(1)
            let leader = try await cluster.servingNode(of: partition)
            let log = try #require(cluster.log(leader))
            _ = try await log.append([0xE0], to: partition, generation: log.generation(of: partition)).result()
            try await log.confirmLeadership(of: partition)
            let follower = try #require(cluster.ids.first { $0 != leader })
            await #expect(throws: ClusterError.self) { try await cluster.log(follower)!.confirmLeadership(of: partition) }

            cluster.network.setReachable(leader, false)
            #expect(log.leadership(of: partition).servingHere)
            do {
                try await log.confirmLeadership(of: partition)
                Issue.record("a leader cut off from every replica confirmed a read")
            } catch {
                #expect((error as? ClusterError)?.code == .notLeader)
            }
            // The others elect a leader of their own, which confirms reads.
            cluster.network.setReachable(leader, true)
            try await eventually("a leader confirms reads again", within: .seconds(15)) {
                cluster.ids.contains { cluster.log($0)?.leadership(of: partition).servingHere == true }
            }
            let serving = try #require(cluster.ids.first { cluster.log($0)?.leadership(of: partition).servingHere == true })
            try await cluster.log(serving)!.confirmLeadership(of: partition)
        }
    }

    @Test func raftMessagesRoundTripThroughTheirCodec() throws {
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 9, term: 3, voters: [1, 2, 3]), data: [7, 8])
        let messages: [(group: UInt32, message: Message)] = [
            (0, Message(kind: .append, from: 1, to: 2, term: 5, logTerm: 4, index: 10, entries: [Entry(term: 5, index: 11, data: [1, 2, 3]), Entry(term: 5, index: 12)], commit: 9)),
            (63, Message(kind: .appendResponse, from: 2, to: 1, term: 5, index: 3, reject: true, rejectHint: 2)),
            (7, Message(kind: .vote, from: 3, to: 1, term: UInt64.max, logTerm: 1, index: 1 << 40, campaignTransfer: true)),
            (1, Message(kind: .heartbeat, from: 1, to: 3, term: 2, commit: 4, context: Array("read-1".utf8))),
            (2, Message(kind: .snapshot, from: 1, to: 2, term: 3, snapshot: snapshot)),
        ]
        let decoded = try RaftCodec.decode(RaftCodec.encode(messages))
        #expect(decoded.map(\.group) == messages.map(\.group))
        #expect(decoded.map(\.message) == messages.map(\.message))
        let encoded = RaftCodec.encode(messages)
        #expect(throws: RaftCodecError.self) { try RaftCodec.decode([2] + encoded.dropFirst()) }
        #expect(throws: RaftCodecError.self) { try RaftCodec.decode(Array(encoded.dropLast())) }
        #expect(throws: RaftCodecError.self) { try RaftCodec.decode(encoded + [0]) }
    }
}

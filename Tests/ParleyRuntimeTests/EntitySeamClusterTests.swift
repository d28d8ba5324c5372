import Foundation
import ParleyCluster
import ParleyDomain
import Testing

@testable import ParleyRuntime

/// The entity seam on three replicated nodes in one process, with the test-only kind: an
/// effect crosses to an entity another node leads, a timer fires after its leader is cut
/// off (by the new leader), soft state stays on the leader and is rebuilt after a failover,
/// and the channel listing answers with a node down.
@Suite("Entity seam (three replicated nodes)")
struct EntitySeamClusterTests {
    static func leader(of entity: EntityID, in cluster: InProcessCluster) -> Int? {
        let partition = Partitioner(partitionCount: 16).partition(for: entity.description)
        return cluster.nodes.firstIndex { $0.runtime.configuration.servedPartitions.serves(partition) }.map { $0 + 1 }
    }

    static func probe(_ key: String) -> EntityID { EntityID(kind: ProbeState.kind, key: key) }

    /// Waits until every partition has a leader.
    static func settled(_ cluster: InProcessCluster) async throws -> Bool {
        try await ReplicatedRuntimeTests.eventually(.seconds(20)) {
            (0..<16).allSatisfy { slot in
                cluster.nodes.contains { $0.runtime.configuration.servedPartitions.serves(PartitionID(UInt16(slot))) }
            }
        }
    }

    @Test func anEffectReachesAnEntityAnotherNodeLeads() async throws {
        let cluster = try InProcessCluster(replicated: true, kinds: ProbeState.kinds)
        try await cluster.run { cluster in
            #expect(try await Self.settled(cluster))
            let sourceLeader = try #require(Self.leader(of: Self.probe("src"), in: cluster))
            let target = try #require((0..<500).lazy.map { "dst\($0)" }.first { Self.leader(of: Self.probe($0), in: cluster).map { $0 != sourceLeader } ?? false })
            // Asked through the third node, decided where "src" is led, applied where the target is.
            let third = [1, 2, 3].first { $0 != sourceLeader && $0 != Self.leader(of: Self.probe(target), in: cluster) } ?? 1
            for amount in [1, 2, 3] as [Int64] {
                _ = try await cluster.node(third).runtime.command(.forward(amount, to: target), to: "src", of: ProbeState.self)
            }
            #expect(try await ReplicatedRuntimeTests.eventually {
                try await cluster.node(sourceLeader).runtime.state(of: target, ProbeState.self).total == 6
            })
            // Delivered and deleted on every replica.
            #expect(try await ReplicatedRuntimeTests.eventually {
                try cluster.nodes.allSatisfy { try EntitySeamTests.effectRecords($0.runtime) == 0 }
            })
        }
    }

    @Test func aTimerFiresAfterItsLeaderIsCutOff() async throws {
        let cluster = try InProcessCluster(replicated: true, kinds: ProbeState.kinds)
        try await cluster.run { cluster in
            #expect(try await Self.settled(cluster))
            let entity = Self.probe("alarm")
            let oldLeader = try #require(Self.leader(of: entity, in: cluster))
            let deadline = SystemClock().now().adding(milliseconds: 1_500)
            _ = try await cluster.node(oldLeader).runtime.command(.schedule(tag: "ring", at: deadline), to: "alarm", of: ProbeState.self)
            cluster.network.setReachable(cluster.node(oldLeader).id, false)
            let others = [1, 2, 3].filter { $0 != oldLeader }
            #expect(try await ReplicatedRuntimeTests.eventually(.seconds(20)) {
                (try? await cluster.node(others[0]).runtime.state(of: "alarm", ProbeState.self).fired) == ["ring"]
            })
            let newLeader = try #require(Self.leader(of: entity, in: cluster))
            #expect(newLeader != oldLeader)
            // Once, however many nodes tried: the fired timer is gone from the survivors.
            #expect(try await cluster.node(others[1]).runtime.state(of: "alarm", ProbeState.self).total == 1)
            cluster.network.setReachable(cluster.node(oldLeader).id, true)
            #expect(try await ReplicatedRuntimeTests.eventually(.seconds(20)) {
                try cluster.nodes.allSatisfy { try EntitySeamTests.timerRecords($0.runtime) == 0 }
            })
            #expect(try await cluster.node(oldLeader).runtime.state(of: "alarm", ProbeState.self).fired == ["ring"])
        }
    }

    @Test func softStateStaysOnTheLeaderAndIsRebuiltAfterAFailover() async throws {
        let cluster = try InProcessCluster(replicated: true, kinds: ProbeState.kinds)
        try await cluster.run { cluster in
            #expect(try await Self.settled(cluster))
            let entity = Self.probe("presence")
            let oldLeader = try #require(Self.leader(of: entity, in: cluster))
            let others = [1, 2, 3].filter { $0 != oldLeader }
            _ = try await cluster.node(others[0]).runtime.command(.ping(from: "web"), to: "presence", of: ProbeState.self)
            #expect(String(decoding: try await cluster.node(others[1]).runtime.read("soft", of: entity), as: UTF8.self) == "web")
            cluster.network.setReachable(cluster.node(oldLeader).id, false)
            // The new leader starts without it (never logged) and renewals rebuild it.
            _ = try await cluster.node(others[0]).runtime.command(.ping(from: "app"), to: "presence", of: ProbeState.self)
            #expect(String(decoding: try await cluster.node(others[1]).runtime.read("soft", of: entity), as: UTF8.self) == "app")
            cluster.network.setReachable(cluster.node(oldLeader).id, true)
        }
    }

    @Test func theChannelListAnswersWithANodeDown() async throws {
        let cluster = try InProcessCluster(replicated: true)
        try await cluster.run { cluster in
            #expect(try await Self.settled(cluster))
            for index in 1...6 {
                _ = try await cluster.node(1 + index % 3).runtime.channelCommand(
                    .create(name: "Channel \(index)", kind: .weblink, webLink: nil, phoneNumber: nil), for: ChannelID(unchecked: "c_\(index)"))
            }
            let all = (1...6).map { "c_\($0)" }
            for down in 1...3 {
                cluster.network.setReachable(cluster.node(down).id, false)
                let asked = down % 3 + 1
                #expect(try await cluster.node(asked).runtime.allChannels().map(\.id.rawValue) == all)
                cluster.network.setReachable(cluster.node(down).id, true)
            }
        }
    }
}

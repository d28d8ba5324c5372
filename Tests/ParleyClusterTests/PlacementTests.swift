import ParleyCluster
import Testing

@Suite("Placement")
struct PlacementTests {
    /// Members with ports by position; `listedBackwards` lists the same members in reverse.
    static func membership(_ names: [String], partitions: Int = 64, replication: Int = 3, listedBackwards: Bool = false) throws -> ClusterMembership {
        let members = names.enumerated().map { index, name in
            ClusterMember(
                id: NodeID(name)!, peerAddress: HostPort(host: "127.0.0.1", port: 7_000 + index),
                clientAddress: HostPort(host: "127.0.0.1", port: 8_000 + index))
        }
        return try ClusterMembership(members: listedBackwards ? members.reversed() : members, partitionCount: partitions, replicationFactor: replication)
    }

    static func nodes(_ count: Int, prefix: String = "node-") -> [String] { (1...count).map { "\(prefix)\($0)" } }

    /// Busiest over idlest, of the counts per node.
    static func spread(_ counts: [Int]) -> Double { Double(counts.max() ?? 0) / Double(max(counts.min() ?? 1, 1)) }

    @Test func everyNodeComputesTheSamePlacementWithRDistinctReplicas() throws {
        let three = try Self.membership(Self.nodes(3))
        let reordered = try Self.membership(Self.nodes(3), listedBackwards: true)
        #expect(Placement(three) == Placement(reordered))
        for size in 1...6 {
            let placement = Placement(try Self.membership(Self.nodes(size)))
            for partition in 0..<64 {
                let replicas = placement.replicas(of: PartitionID(UInt16(partition)))
                #expect(replicas.count == min(3, size))
                #expect(Set(replicas).count == replicas.count)
                #expect(placement.leader(of: PartitionID(UInt16(partition))) == replicas[0])
            }
        }
    }

    @Test func sixtyFourPartitionsOnFiveNodesAreBalanced() throws {
        let placement = Placement(try Self.membership(Self.nodes(5)))
        let nodes = Self.nodes(5).map { NodeID($0)! }
        let led = nodes.map { placement.partitions(ledBy: $0).count }
        let held = nodes.map { placement.partitions(replicatedOn: $0).count }
        print("placement 64 partitions on 5 nodes: led \(led), spread \(Self.spread(led)); replicas \(held), spread \(Self.spread(held))")
        #expect(led.reduce(0, +) == 64 && held.reduce(0, +) == 192)
        #expect(Self.spread(led) <= 1.3)
        #expect(Self.spread(held) <= 1.3)
    }

    /// Over 200 clusters of 5 nodes with other names, the served partitions stay within 1.3;
    /// the replica slots (rendezvous alone, which balance gives up for minimal movement) are
    /// reported.
    @Test func balanceHoldsForOtherNodeNames() throws {
        var worstLed = 0.0
        var heldSpreads: [Double] = []
        for cluster in 0..<200 {
            let names = Self.nodes(5, prefix: "c\(cluster)-n")
            let placement = Placement(try Self.membership(names))
            let ids = names.map { NodeID($0)! }
            worstLed = max(worstLed, Self.spread(ids.map { placement.partitions(ledBy: $0).count }))
            heldSpreads.append(Self.spread(ids.map { placement.partitions(replicatedOn: $0).count }))
        }
        heldSpreads.sort()
        print("placement over 200 clusters of 5: worst led spread \(worstLed); replica spread median \(heldSpreads[100]), p90 \(heldSpreads[180]), max \(heldSpreads[199])")
        #expect(worstLed <= 1.3)
    }

    @Test func addingASixthNodeMovesOnlyTheSlotsItTakes() throws {
        let before = Placement(try Self.membership(Self.nodes(5)))
        let after = Placement(try Self.membership(Self.nodes(6)))
        let newcomer = NodeID("node-6")!
        var moved = 0
        var leadersChanged = 0
        for partition in 0..<64 {
            let id = PartitionID(UInt16(partition))
            let old = Set(before.replicas(of: id))
            let new = Set(after.replicas(of: id))
            if before.leader(of: id) != after.leader(of: id) { leadersChanged += 1 }
            guard old != new else { continue }
            // The only change to a set: the newcomer in, one old replica out.
            #expect(new.subtracting(old) == [newcomer])
            #expect(old.subtracting(new).count == 1)
            moved += 1
        }
        print("placement 5 → 6 nodes: \(moved) of 192 replica slots moved (ideal 192/6 = 32), all to the new node; \(leadersChanged) of 64 leaders changed")
        #expect((16...48).contains(moved))
    }

    @Test func membershipIsCheckedAndFingerprinted() throws {
        let base = try Self.membership(Self.nodes(3))
        #expect(try Self.membership(Self.nodes(3), listedBackwards: true).fingerprint == base.fingerprint)
        #expect(try Self.membership(Self.nodes(3), partitions: 32).fingerprint != base.fingerprint)
        #expect(try Self.membership(Self.nodes(4)).fingerprint != base.fingerprint)
        #expect(try Self.membership(Self.nodes(3), replication: 1).fingerprint != base.fingerprint)
        #expect(base.fingerprint.count == 16)
        #expect(throws: ClusterError.self) { try Self.membership(["a", "a"]) }
        #expect(throws: ClusterError.self) { try Self.membership([]) }
        #expect(throws: ClusterError.self) { try Self.membership(["a"], partitions: 0) }
        let twice = HostPort(host: "127.0.0.1", port: 7_000)
        #expect(throws: ClusterError.self) {
            try ClusterMembership(
                members: [
                    ClusterMember(id: NodeID("a")!, peerAddress: twice, clientAddress: HostPort(host: "127.0.0.1", port: 1)),
                    ClusterMember(id: NodeID("b")!, peerAddress: twice, clientAddress: HostPort(host: "127.0.0.1", port: 2)),
                ], partitionCount: 8, replicationFactor: 3)
        }
        #expect(NodeID("") == nil && NodeID("a b") == nil && NodeID(String(repeating: "x", count: 65)) == nil)
        #expect(HostPort("127.0.0.1:7001") == HostPort(host: "127.0.0.1", port: 7_001))
        #expect(HostPort("[::1]:7001")?.host == "::1" && HostPort("[::1]:7001")?.description == "[::1]:7001")
        #expect(HostPort("host:0") == nil && HostPort("host") == nil && HostPort(":80") == nil)
    }
}

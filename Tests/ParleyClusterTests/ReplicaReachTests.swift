import Testing

@testable import ParleyCluster

@Suite("Replica reach")
struct ReplicaReachTests {
    let nodes = ["node-1", "node-2", "node-3"].map { NodeID($0)! }

    @Test func aMajorityIsMoreThanHalf() {
        #expect(ReplicaReach.isMajority(2, of: 3) && !ReplicaReach.isMajority(1, of: 3))
        #expect(ReplicaReach.isMajority(3, of: 5) && !ReplicaReach.isMajority(2, of: 5))
        #expect(ReplicaReach.isMajority(1, of: 1) && !ReplicaReach.isMajority(0, of: 1))
    }

    @Test func theSuccessorIsTheFirstReplicaNeitherGoneNorDown() {
        #expect(ReplicaReach.successor(of: nodes, replacing: nodes[0]) { _ in false } == nodes[1])
        #expect(ReplicaReach.successor(of: nodes, replacing: nodes[0]) { $0 == nodes[1] } == nodes[2])
        #expect(ReplicaReach.successor(of: nodes, replacing: nodes[1]) { _ in false } == nodes[0])
        #expect(ReplicaReach.successor(of: nodes, replacing: nodes[0]) { _ in true } == nil)
    }
}

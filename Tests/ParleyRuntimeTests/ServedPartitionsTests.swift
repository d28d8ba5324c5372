import Foundation
import ParleyCluster
import ParleyDomain
import ParleyRuntime
import Testing

@Suite("Served partitions")
struct ServedPartitionsTests {
    @Test func commandsForPartitionsServedElsewhereAreRefusedNamingTheServingNode() async throws {
        let members = ["node-a", "node-b"].enumerated().map { index, name in
            ClusterMember(
                id: NodeID(name)!, peerAddress: HostPort(host: "127.0.0.1", port: 7_001 + index),
                clientAddress: HostPort(host: "127.0.0.1", port: 8_001 + index))
        }
        let placement = Placement(try ClusterMembership(members: members, partitionCount: 16, replicationFactor: 3))
        let served = ServedPartitions(placement: placement, node: NodeID("node-a")!)
        var configuration = RuntimeConfiguration()
        configuration.servedPartitions = served
        try await withRuntime(configuration: configuration) { runtime in
            var refused = 0
            var created = 0
            for _ in 0..<40 {
                do {
                    let room = try await runtime.createRoom(RoomCreation(kind: .space, name: "Somewhere", members: [], creator: admin))
                    // A room created here is on a partition this node serves.
                    #expect(served.serves(runtime.partitioner.partition(for: EntityID.room(room.id).description)))
                    created += 1
                } catch let error as RuntimeError {
                    #expect(error.code == RuntimeError.partitionElsewhere)
                    #expect(error.message.contains("node-b (clients: 127.0.0.1:8002)"))
                    refused += 1
                }
            }
            // Both nodes serve some of the 16 partitions, so 40 random rooms hit both.
            #expect(created > 0 && refused > 0)
            #expect(placement.partitions(ledBy: NodeID("node-a")!).count + placement.partitions(ledBy: NodeID("node-b")!).count == 16)
        }
    }
}

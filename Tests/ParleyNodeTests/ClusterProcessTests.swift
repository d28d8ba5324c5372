import Foundation
import HTTPTypes
import ParleyTestKit
import Testing

/// Nodes of one cluster as real processes on loopback: the peer network, `GET /cluster`, a
/// misconfigured node refused, commands for partitions served elsewhere refused.
@Suite("Cluster processes", .serialized)
struct ClusterProcessTests {
    static let token = "cluster-test-token-0123456789"

    /// A three-node cluster file with free ports, in `dir`.
    static func clusterFile(in dir: String) throws -> (path: String, clientPorts: [Int]) {
        var nodes: [[String: String]] = []
        var clientPorts: [Int] = []
        for index in 1...3 {
            let client = try FreePort.loopback()
            clientPorts.append(client)
            nodes.append([
                "id": "node-\(index)", "peer": "127.0.0.1:\(try FreePort.loopback())", "client": "127.0.0.1:\(client)",
                "data_dir": dir + "/node-\(index)",
            ])
        }
        let config: [String: Any] = ["partitions": 16, "replication_factor": 3, "log_level": "warning", "link_previews": false, "nodes": nodes]
        let path = dir + "/cluster.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return (path, clientPorts)
    }

    static func peerStates(_ client: NodeClient) async throws -> [String: String] {
        let status = try await client.call("/cluster", .get).json
        let peers = status["peers"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: peers.compactMap { peer in
            (peer["id"] as? String).flatMap { id in (peer["state"] as? String).map { (id, $0) } }
        })
    }

    /// Polls `read` every 100 ms for at most 20 s until `done`.
    static func eventually(_ read: () async throws -> [String: String], _ done: ([String: String]) -> Bool) async throws -> [String: String] {
        var last: [String: String] = [:]
        for _ in 0..<200 {
            last = try await read()
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    @Test func peersMeetAMisconfiguredNodeIsRefusedAndPartitionsServedElsewhereAreNamed() async throws {
        let dir = NSTemporaryDirectory() + "parley-cluster-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, clientPorts) = try Self.clusterFile(in: dir)
        let environment = ["PARLEY_ADMIN_TOKEN": Self.token]
        let one = try NodeProcess(workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-1"], environment: environment)
        let two = try NodeProcess(workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-2"], environment: environment)
        defer {
            one.send(SIGKILL)
            two.send(SIGKILL)
        }
        #expect(try await one.waitForPort() == clientPorts[0])
        #expect(try await two.waitForPort() == clientPorts[1])
        let client = NodeClient(port: clientPorts[0], token: Self.token)

        // node-2 answers; node-3 has not started and is retried.
        let met = try await Self.eventually({ try await Self.peerStates(client) }) { $0["node-2"] == "up" && $0["node-3"] == "down" }
        #expect(met == ["node-2": "up", "node-3": "down"])
        let status = try await client.call("/cluster", .get).json
        #expect(status["node_id"] as? String == "node-1" && status["partitions"] as? Int == 16)
        #expect((status["fingerprint"] as? String)?.count == 16)

        // node-3 configured with another partition count refuses to join (exit 2, naming why);
        // node-1 marks it and runs on.
        let three = try NodeProcess(
            workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-3"],
            environment: environment.merging(["PARLEY_PARTITIONS": "32", "PARLEY_DATA_DIR": dir + "/node-3-misconfigured"]) { $1 })
        #expect(await three.waitForExit() == 2)
        #expect(three.stderr.contains("cluster_membership_mismatch") && three.stderr.contains("partitions=32"))
        let marked = try await Self.eventually({ try await Self.peerStates(client) }) { $0["node-3"] == "mismatched" }
        #expect(marked["node-3"] == "mismatched" && marked["node-2"] == "up")

        // Rooms land on partitions of all three nodes: those served elsewhere are refused with 421,
        // naming the serving node's client address.
        var served = 0
        var elsewhere = 0
        for _ in 0..<30 {
            let created = try await client.call("/v1/rooms", .post, json: #"{"name":"Spread"}"#)
            if created.status == .created {
                served += 1
            } else {
                #expect(created.status == .misdirectedRequest)
                let error = created.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == "partition_elsewhere")
                let message = error?["message"] as? String ?? ""
                #expect(message.contains("127.0.0.1:\(clientPorts[1])") || message.contains("127.0.0.1:\(clientPorts[2])"))
                elsewhere += 1
            }
        }
        #expect(served > 0 && elsewhere > 0)
        await client.shutdown()

        one.send(SIGTERM)
        two.send(SIGTERM)
        #expect(await one.waitForExit() == 0)
        #expect(await two.waitForExit() == 0)
    }
}

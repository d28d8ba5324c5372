import Foundation
import HTTPTypes
import Testing

/// Tests that run `parley` as a real child process. Serialized: each starts processes and
/// the machine has two cores.
@Suite("Node process", .serialized)
struct NodeProcessTests {
    static let token = "process-test-token-0123456789"

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "parley-node-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func badConfigurationExitsNonZeroNamingFileKeyAndReason() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/bad.json"
        try #"{"client_port": 99999}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let node = try NodeProcess(workDirectory: dir, arguments: ["serve", "--config", config], environment: [:])
        let status = await node.waitForExit()
        #expect(status == 2)
        #expect(node.stderr.contains(config))
        #expect(node.stderr.contains("client_port"))
        #expect(node.stderr.contains("between 0 and 65535"))

        let fromEnvironment = try NodeProcess(workDirectory: dir, environment: ["PARLEY_PARTITIONS": "lots"])
        #expect(await fromEnvironment.waitForExit() == 2)
        #expect(fromEnvironment.stderr.contains("PARLEY_PARTITIONS"))
    }

    @Test func startsOnTheEmbeddedDefaultAndDrainsOnSIGTERM() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // No config file: the embedded default, only the port moved so tests never collide.
        let node = try NodeProcess(workDirectory: dir, environment: ["PARLEY_CLIENT_PORT": "0"])
        let port = try await node.waitForPort()
        let tokenPath = dir + "/data/admin-token"
        let token = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let client = NodeClient(port: port, token: token)
        let health = try await client.call("/health", .get)
        #expect(health.status == .ok)
        let room = try #require(try await client.call("/v1/rooms", .post, json: #"{"name":"Ops"}"#).json["id"] as? String)
        for i in 0..<20 {
            #expect(try await client.call("/v1/rooms/\(room)/messages", .post, json: "{\"text\":\"m\(i)\"}").status == .created)
        }
        await client.shutdown()
        node.send(SIGTERM)
        #expect(await node.waitForExit() == 0)
        #expect(node.stderr.contains("partition log drained"))
        #expect(node.stderr.contains("node stopped"))

        let restarted = try NodeProcess(workDirectory: dir, environment: ["PARLEY_CLIENT_PORT": "0"])
        let again = NodeClient(port: try await restarted.waitForPort(), token: token)
        let history = try await again.call("/v1/rooms/\(room)/messages?limit=100", .get)
        #expect((history.json["messages"] as? [[String: Any]])?.count == 20)
        await again.shutdown()
        restarted.send(SIGTERM)
        #expect(await restarted.waitForExit() == 0)
    }

    @Test func refusesASecondNodeOnTheSameDataDirectory() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["PARLEY_CLIENT_PORT": "0", "PARLEY_ADMIN_TOKEN": Self.token]
        let first = try NodeProcess(workDirectory: dir, environment: environment)
        _ = try await first.waitForPort()
        let second = try NodeProcess(workDirectory: dir, environment: environment)
        #expect(await second.waitForExit() == 2)
        #expect(second.stderr.contains("storage_busy"))
        first.send(SIGTERM)
        #expect(await first.waitForExit() == 0)
    }
}

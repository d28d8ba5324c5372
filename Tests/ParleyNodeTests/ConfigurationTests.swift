import Foundation
import Testing

@testable import ParleyNode

@Suite("Node configuration")
struct ConfigurationTests {
    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "parley-config-" + UUID().uuidString + ".json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsAreTheEmbeddedSingleNode() throws {
        let configuration = try ConfigurationLoader.load(file: nil, environment: [:])
        #expect(configuration == NodeConfiguration())
        #expect(configuration.partitions == 64)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.clientPort == 8080)
        #expect(configuration.adminToken == nil)
    }

    @Test func fileThenEnvironmentWhichWins() throws {
        let file = try write(#"{"node_id":"n2","partitions":32,"client_port":9000,"log_level":"debug","passivate_after_seconds":1.5}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try ConfigurationLoader.load(file: file, environment: ["PARLEY_CLIENT_PORT": "9100", "PARLEY_DATA_DIR": "/tmp/x", "UNRELATED": "1"])
        #expect(configuration.nodeID == "n2")
        #expect(configuration.partitions == 32)
        #expect(configuration.clientPort == 9100)
        #expect(configuration.dataDirectory == "/tmp/x")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.passivateAfterSeconds == 1.5)
    }

    @Test func peersMayListenBehindAProxyAndDialFromTheirOwnAddress() throws {
        let configuration = try ConfigurationLoader.load(
            file: nil, environment: ["PARLEY_PEER_LISTEN": "127.0.0.1:7001", "PARLEY_PEER_SOURCE_HOST": "127.0.0.12"])
        #expect(configuration.peerListen == "127.0.0.1:7001" && configuration.peerSourceHost == "127.0.0.12")
        #expect(try ConfigurationLoader.load(file: nil, environment: ["PARLEY_PEER_SOURCE_HOST": "::1"]).peerSourceHost == "::1")
    }

    @Test func everySettingHasAnEnvironmentVariable() throws {
        var environment: [String: String] = [:]
        for setting in ConfigurationLoader.settings { environment[setting.environmentVariable] = "x" }
        // Every variable is read: each bad value is reported by name.
        for setting in ConfigurationLoader.settings where !["data_dir", "client_host", "peer_host", "node_id"].contains(setting.key) {
            do {
                _ = try ConfigurationLoader.load(file: nil, environment: [setting.environmentVariable: "?"])
                Issue.record("\(setting.environmentVariable)=? was accepted")
            } catch {
                #expect(error.key == setting.environmentVariable)
                #expect(error.source == "environment")
            }
        }
        #expect(ConfigurationLoader.settings.count >= 12)
    }

    @Test(arguments: [
        (#"{"partitions":0}"#, "partitions", "between 1 and 4096"),
        (#"{"partitions":"many"}"#, "partitions", "whole number"),
        (#"{"partitions":2.5}"#, "partitions", "whole number"),
        (#"{"client_port":70000}"#, "client_port", "between 0 and 65535"),
        (#"{"log_level":"loud"}"#, "log_level", "one of"),
        (#"{"admin_token":"short"}"#, "admin_token", "16 to 256"),
        (#"{"node_id":"has space"}"#, "node_id", "A-Z"),
        (#"{"partitoins":8}"#, "partitoins", "is not a setting"),
        (#"{"data_dir":true}"#, "data_dir", "must be a string"),
        (#"{"link_previews":"maybe"}"#, "link_previews", "true or false"),
        (#"{"partitions":[1]}"#, "partitions", "a string, a number, a boolean"),
        (#"{"passivate_after_seconds":-1}"#, "passivate_after_seconds", "more than 0"),
        (#"{"peer_listen":"no-port"}"#, "peer_listen", "host:port"),
        (#"{"peer_source_host":"localhost"}"#, "peer_source_host", "IP address"),
    ])
    func badValuesNameFileKeyAndReason(_ json: String, _ key: String, _ reason: String) throws {
        let file = try write(json)
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            _ = try ConfigurationLoader.load(file: file, environment: [:])
            Issue.record("\(json) was accepted")
        } catch {
            #expect(error.source == file)
            #expect(error.key == key)
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.description.contains(file) && error.description.contains(key))
        }
    }

    @Test func unreadableOrMalformedFilesAreNamed() throws {
        let missing = NSTemporaryDirectory() + "parley-absent-" + UUID().uuidString + ".json"
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(file: missing, environment: [:]) }
        for text in ["{not json", "[1,2]", ""] {
            let file = try write(text)
            defer { try? FileManager.default.removeItem(atPath: file) }
            do {
                _ = try ConfigurationLoader.load(file: file, environment: [:])
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.source == file)
                #expect(error.key == nil)
            }
        }
    }

    @Test func aClusterFileGivesEachNodeItsOwnEntryAndOneFingerprint() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("cluster-config/three-node.json").path
        var fingerprints: Set<String> = []
        for index in 1...3 {
            let configuration = try ConfigurationLoader.load(file: file, environment: ["PARLEY_NODE_ID": "node-\(index)"])
            #expect(configuration.clientPort == 8_100 + index && configuration.peerPort == 7_100 + index)
            #expect(configuration.dataDirectory == "./data/3-node/node-\(index)")
            let membership = try configuration.clusterMembership()
            #expect(membership.members.count == 3 && membership.effectiveReplicationFactor == 3)
            fingerprints.insert(membership.fingerprint)
        }
        #expect(fingerprints.count == 1)
        // A node that is not among the nodes, or a node entry without its client address, is refused.
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(file: file, environment: ["PARLEY_NODE_ID": "node-9"]) }
        let dir = NSTemporaryDirectory() + "parley-cluster-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(#"{"nodes":[{"id":"node-1","peer":"127.0.0.1:7001"}]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        do {
            _ = try ConfigurationLoader.load(file: dir + "/bad.json", environment: [:])
            Issue.record("a node without a client address was accepted")
        } catch {
            #expect(error.key == "nodes" && error.reason.contains("id, peer and client"))
        }
        // The environment's compact form.
        let fromEnvironment = try ConfigurationLoader.load(
            file: nil, environment: ["PARLEY_NODE_ID": "b", "PARLEY_NODES": "a@127.0.0.1:7001@127.0.0.1:8001,b@127.0.0.1:7002@127.0.0.1:8002"])
        #expect(fromEnvironment.clientPort == 8_002 && fromEnvironment.peerPort == 7_002)
        #expect(try fromEnvironment.clusterMembership().effectiveReplicationFactor == 2)
    }

    @Test func shippedClusterConfigsLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("cluster-config").path
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
        #expect(!files.isEmpty)
        for file in files {
            _ = try ConfigurationLoader.load(file: directory + "/" + file, environment: [:])
        }
    }
}

@Suite("Admin token")
struct AdminTokenTests {
    @Test func generatedOnceWithOwnerOnlyModeThenReused() throws {
        let dir = NSTemporaryDirectory() + "parley-token-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try AdminToken.resolve(configured: nil, dataDirectory: dir)
        guard case let .generated(path) = first.origin else {
            Issue.record("token was not generated")
            return
        }
        #expect(first.token.count == 64)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let second = try AdminToken.resolve(configured: nil, dataDirectory: dir)
        #expect(second.token == first.token)
        #expect(second.origin == .dataDirectory(path: path))
        let configured = try AdminToken.resolve(configured: "configured-token-123456", dataDirectory: dir)
        #expect(configured.origin == .configured)
    }
}

import Foundation
import Logging
import ParleyCluster
import ParleyTestKit
import Testing

@testable import ParleyPeer

/// Mutual TLS between peers, with certificates made by `scripts/make-peer-certs` (OpenSSL):
/// nodes of one authority talk; a node whose certificate another authority signed is never
/// up, and no message from or to it gets through.
@Suite("Peer mutual TLS", .serialized)
struct PeerTLSTests {
    /// Runs `scripts/make-peer-certs` for the nodes of `membership` into `directory`.
    static func makeCertificates(for membership: ClusterMembership, in directory: String) throws {
        let nodes = membership.members.map { ["id": $0.id.rawValue, "peer": "\($0.peerAddress)", "client": "\($0.clientAddress)"] }
        let file = directory + "/cluster.json"
        try JSONSerialization.data(withJSONObject: ["nodes": nodes]).write(to: URL(fileURLWithPath: file))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/make-peer-certs").standardized
        let process = Process()
        process.executableURL = script
        process.arguments = [file, directory]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ClusterError(.invalidMembership, "make-peer-certs exited \(process.terminationStatus)") }
    }

    static func network(_ membership: ClusterMembership, _ node: String, certificates: String) throws -> PeerNetwork {
        var configuration = PeerNetworkTests.configuration()
        configuration.tls = try PeerTLS(directory: certificates, node: NodeID(node)!)
        let network = try PeerNetwork(membership: membership, ownID: NodeID(node)!, configuration: configuration, logger: Logger(label: "tls-test"))
        network.inbox.set(PeerNetworkTests.EchoReceiver())
        return network
    }

    @Test func peersOfOneAuthorityTalkAndAStrangerIsShutOut() async throws {
        let dir = NSTemporaryDirectory() + "parley-tls-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/cluster", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/stranger", withIntermediateDirectories: true)
        let membership = try PeerNetworkTests.membership([try FreePort.loopback(), try FreePort.loopback(), try FreePort.loopback()])
        try Self.makeCertificates(for: membership, in: dir + "/cluster")
        try Self.makeCertificates(for: membership, in: dir + "/stranger")  // another authority, same node names

        let one = try Self.network(membership, "node-1", certificates: dir + "/cluster")
        let two = try Self.network(membership, "node-2", certificates: dir + "/cluster")
        let three = try Self.network(membership, "node-3", certificates: dir + "/stranger")
        try await PeerNetworkTests.running([one, two, three]) {
            #expect(await PeerNetworkTests.eventually { PeerNetworkTests.state(one, of: "node-2").map { if case .up = $0 { true } else { false } } == true })
            let answer = try await one.exchange(.entityCall, [1, 2, 3], with: NodeID("node-2")!, timeout: .seconds(5))
            #expect(answer == [PeerMessageKind.entityCall.rawValue] + Array("node-1".utf8) + [3, 2, 1])

            // node-3's certificate is not the cluster's: handshakes fail both ways.
            #expect(await PeerNetworkTests.eventually {
                if case let .down(_, failures, _) = PeerNetworkTests.state(one, of: "node-3") { failures >= 2 } else { false }
            })
            #expect(!(PeerNetworkTests.state(three, of: "node-1").map { if case .up = $0 { true } else { false } } ?? false))
            await #expect(throws: ClusterError.self) {
                _ = try await three.exchange(.entityCall, [9], with: NodeID("node-1")!, timeout: .seconds(2))
            }
            await #expect(throws: ClusterError.self) {
                _ = try await one.exchange(.entityCall, [9], with: NodeID("node-3")!, timeout: .seconds(2))
            }
        }
    }

    @Test func aMissingCertificateStopsTheNodeNamingTheFile() throws {
        let dir = NSTemporaryDirectory() + "parley-tls-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect {
            _ = try PeerTLS(directory: dir, node: NodeID("node-1")!)
        } throws: { error in
            (error as? ClusterError)?.code == .invalidMembership && "\(error)".contains("ca.pem")
        }
    }
}

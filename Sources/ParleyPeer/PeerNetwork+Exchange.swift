import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import ParleyCluster

extension PeerNetwork {
    /// Sends one message to `node` over its HTTP/2 connection and returns the answer. While the
    /// connection is being established (a peer just started, or never reached yet) the call
    /// waits for it within `timeout`; a peer whose last handshake failed fails fast, so callers
    /// retry on their own schedule. Each call waits on its own: one dead peer delays no call to
    /// another.
    public func exchange(_ kind: PeerMessageKind, _ body: [UInt8], with node: NodeID, timeout: Duration) async throws(ClusterError) -> [UInt8] {
        guard let client = client(for: node), let health = health(of: node) else {
            throw ClusterError(.peerUnavailable, "\(node) is not a peer of this node")
        }
        guard !health.isMismatched else {
            throw ClusterError(.peerUnavailable, "\(node) runs another cluster configuration; this node does not talk to it")
        }
        var request = Parley_Peer_V1_ExchangeRequest()
        request.nodeID = ownID.rawValue
        request.clusterFingerprint = membership.fingerprint
        request.kind = Self.wireKind(kind)
        request.body = Data(body)
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = !health.isDown
        options.maxRequestMessageBytes = maxMessageBytes
        options.maxResponseMessageBytes = maxMessageBytes
        do {
            let response = try await Parley_Peer_V1_Peer.Client(wrapping: client).exchange(request, options: options)
            return Array(response.body)
        } catch let error as RPCError where error.code == .failedPrecondition {
            throw ClusterError(.membershipMismatch, "\(node) refused the message: \(error.message)")
        } catch {
            throw ClusterError(.peerUnavailable, "\(node): \(Self.reason(error))")
        }
    }

    static func wireKind(_ kind: PeerMessageKind) -> Parley_Peer_V1_MessageKind {
        switch kind {
        case .entityCall: .entityCall
        case .liveEvents: .liveEvents
        case .liveInterest: .liveInterest
        }
    }

    static func kind(_ wire: Parley_Peer_V1_MessageKind) -> PeerMessageKind? {
        switch wire {
        case .entityCall: .entityCall
        case .liveEvents: .liveEvents
        case .liveInterest: .liveInterest
        default: nil
        }
    }
}

import Foundation
import ParleyCluster

extension PeerNetwork {
    /// Sends one message to `node` on its message stream and returns the answer. While the
    /// stream is being opened (a peer just started, or never reached yet) the call waits for it
    /// within `timeout`; a peer whose last handshake failed fails fast, so callers retry on
    /// their own schedule. Each call waits on its own: one dead peer delays no call to another.
    public func exchange(_ kind: PeerMessageKind, _ body: [UInt8], with node: NodeID, timeout: Duration) async throws(ClusterError) -> [UInt8] {
        guard let stream = streams[node], let health = health(of: node) else {
            throw ClusterError(.peerUnavailable, "\(node) is not a peer of this node")
        }
        guard !health.isMismatched else {
            throw ClusterError(.peerUnavailable, "\(node) runs another cluster configuration; this node does not talk to it")
        }
        return try await stream.call(Self.wireKind(kind), body, timeout: timeout, failFast: health.isDown)
    }

    /// Frames this node has written to its peers, and the batches they went in.
    public func streamCounters() -> (frames: Int, batches: Int) {
        streams.values.map(\.written).reduce((0, 0)) { ($0.0 + $1.frames, $0.1 + $1.batches) }
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

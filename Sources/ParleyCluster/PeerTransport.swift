import Synchronization

/// What one node's message to another is about. Each kind has its own body codec, owned by
/// the module that sends it; the transport only carries bytes and never looks inside.
public enum PeerMessageKind: UInt8, Sendable, CaseIterable {
    /// An operation on an entity, for the node serving its partition; answered with the
    /// outcome (ParleyRuntime's `EntityCall`).
    case entityCall = 1
    /// Committed events for live sessions on the receiving node.
    case liveEvents = 2
    /// What the sending node's sessions follow (rooms, staff), renewed as soft state.
    case liveInterest = 3
    /// Raft messages of any partitions both nodes replicate (ParleyRaft's `RaftCodec`),
    /// posted: Raft's own messages carry every answer.
    case raft = 4
    /// One chunk of a partition's snapshot streamed to a follower (`SnapshotChunk`),
    /// answered with one byte: taken, start again, or refused.
    case raftSnapshot = 5
}

/// How a node reaches the other nodes of its cluster. ParleyPeer implements it over gRPC
/// (HTTP/2); `InProcessPeerTransport` connects nodes in one process for tests.
public protocol PeerTransport: Sendable {
    /// Sends `body` to `node` and returns its answer. Fails with `peer_unavailable` when the
    /// node cannot be reached, does not answer within `timeout`, or the call is abandoned
    /// through `abandonment` first.
    func exchange(
        _ kind: PeerMessageKind, _ body: [UInt8], with node: NodeID, timeout: Duration, abandonment: PeerCallAbandonment?
    ) async throws(ClusterError) -> [UInt8]

    /// Posts `body` to `node`: nothing answers it and the sender never learns whether it
    /// arrived, for protocols that resend what matters on their own (Raft). Messages posted to
    /// one node arrive in the order posted, or not at all; the call never waits.
    func post(_ kind: PeerMessageKind, _ body: [UInt8], to node: NodeID)

    /// Whether `node` answers now, as this transport's failure detector last found (true
    /// while unknown: no news is not bad news).
    func isUp(_ node: NodeID) -> Bool
}

extension PeerTransport {
    public func isUp(_ node: NodeID) -> Bool { true }

    /// Sends `body` to `node` and returns its answer (a call nothing abandons).
    public func exchange(_ kind: PeerMessageKind, _ body: [UInt8], with node: NodeID, timeout: Duration) async throws(ClusterError) -> [UInt8] {
        try await exchange(kind, body, with: node, timeout: timeout, abandonment: nil)
    }
}

/// What a node does with its peers' messages.
public protocol PeerReceiver: Sendable {
    /// Handles a message from `node`; the bytes returned are the answer.
    func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8]

    /// Takes a message `node` posted (answered by nothing), on the transport's I/O thread: it
    /// must return quickly and never block.
    func receivePosted(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID)

    /// Learns that `node`'s process is gone (its connection closed and a new dial was
    /// refused), on the transport's I/O thread: it must return quickly and never block. A hint
    /// only: a peer that silently stops answering (a crashed machine, a partition) gives none.
    func peerGone(_ node: NodeID)
}

extension PeerReceiver {
    /// A receiver that takes no posted messages drops them: no peer posts it any.
    public func receivePosted(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) {}

    /// A receiver with no use for the hint ignores it.
    public func peerGone(_ node: NodeID) {}
}

/// Hands Raft messages to the replicated log and everything else to the runtime.
public struct PeerRouter: PeerReceiver {
    let raft: any PeerReceiver
    let others: any PeerReceiver

    public init(raft: any PeerReceiver, others: any PeerReceiver) {
        self.raft = raft
        self.others = others
    }

    public func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
        switch kind {
        case .raft, .raftSnapshot: await raft.receive(kind, body, from: node)
        case .entityCall, .liveEvents, .liveInterest: await others.receive(kind, body, from: node)
        }
    }

    public func receivePosted(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) {
        switch kind {
        case .raft, .raftSnapshot: raft.receivePosted(kind, body, from: node)
        case .entityCall, .liveEvents, .liveInterest: others.receivePosted(kind, body, from: node)
        }
    }

    public func peerGone(_ node: NodeID) {
        raft.peerGone(node)
        others.peerGone(node)
    }
}

/// Holds the receiver a transport hands incoming messages to: the transport is built before
/// the runtime that receives, so the receiver is set once both exist.
public final class PeerInbox: Sendable {
    private let receiver = Mutex<(any PeerReceiver)?>(nil)

    public init() {}

    public func set(_ newReceiver: any PeerReceiver) { receiver.withLock { $0 = newReceiver } }

    /// Hands a message to the receiver; fails with `peer_unavailable` before one is set.
    public func deliver(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async throws(ClusterError) -> [UInt8] {
        guard let target = receiver.withLock({ $0 }) else {
            throw ClusterError(.peerUnavailable, "this node is still starting and takes no peer messages yet")
        }
        return await target.receive(kind, body, from: node)
    }

    /// Hands a posted message to the receiver; dropped before one is set.
    public func deliverPosted(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) {
        receiver.withLock { $0 }?.receivePosted(kind, body, from: node)
    }

    /// Tells the receiver that `node`'s process is gone; dropped before one is set.
    public func deliverGone(_ node: NodeID) {
        receiver.withLock { $0 }?.peerGone(node)
    }
}

/// Nodes of one process connected directly: an exchange is a call of the target's receiver,
/// after an optional delay. Nodes can be taken down and brought back, so tests can watch a
/// node disappear without sockets.
public final class InProcessPeerTransport: Sendable {
    private struct Node {
        var inbox: PeerInbox
        var up: Bool
    }

    private let nodes = Mutex<[NodeID: Node]>([:])

    public init() {}

    /// Registers `node`; returns its inbox and the transport it sends with.
    public func join(_ node: NodeID) -> (inbox: PeerInbox, transport: any PeerTransport) {
        let inbox = PeerInbox()
        nodes.withLock { $0[node] = Node(inbox: inbox, up: true) }
        return (inbox, Sender(from: node, network: self))
    }

    /// Makes `node` unreachable (false) or reachable again (true), in both directions, as a
    /// partition or a crashed machine does: nobody is told.
    public func setReachable(_ node: NodeID, _ up: Bool) { nodes.withLock { $0[node]?.up = up } }

    /// Whether `node` is reachable (the failure detector a real network's handshakes give).
    public func isReachable(_ node: NodeID) -> Bool { nodes.withLock { $0[node]?.up ?? false } }

    /// Makes `node` unreachable as a killed process is: the other nodes (those reachable) are
    /// told it is gone, as the socket transport tells them when its connection closes and a
    /// new dial is refused. `setReachable(node, true)` brings it back.
    public func kill(_ node: NodeID) {
        let survivors = nodes.withLock { nodes -> [PeerInbox] in
            nodes[node]?.up = false
            return nodes.filter { $0.key != node && $0.value.up }.map(\.value.inbox)
        }
        for inbox in survivors { inbox.deliverGone(node) }
    }

    fileprivate func deliver(_ kind: PeerMessageKind, _ body: [UInt8], from sender: NodeID, to target: NodeID) async throws(ClusterError) -> [UInt8] {
        let inbox = nodes.withLock { nodes -> PeerInbox? in
            guard let from = nodes[sender], from.up, let to = nodes[target], to.up else { return nil }
            return to.inbox
        }
        guard let inbox else { throw ClusterError(.peerUnavailable, "\(target) is unreachable from \(sender)") }
        return try await inbox.deliver(kind, body, from: sender)
    }

    fileprivate func deliverPosted(_ kind: PeerMessageKind, _ body: [UInt8], from sender: NodeID, to target: NodeID) {
        let inbox = nodes.withLock { nodes -> PeerInbox? in
            guard let from = nodes[sender], from.up, let to = nodes[target], to.up else { return nil }
            return to.inbox
        }
        inbox?.deliverPosted(kind, body, from: sender)
    }

    private struct Sender: PeerTransport {
        let from: NodeID
        let network: InProcessPeerTransport

        /// Reachable both ways, as a handshake would find.
        func isUp(_ node: NodeID) -> Bool { network.isReachable(from) && network.isReachable(node) }

        func exchange(
            _ kind: PeerMessageKind, _ body: [UInt8], with node: NodeID, timeout: Duration, abandonment: PeerCallAbandonment?
        ) async throws(ClusterError) -> [UInt8] {
            guard let abandonment else { return try await network.deliver(kind, body, from: from, to: node) }
            // No frame to withdraw here: the delivery races the abandonment, and the loser is
            // cancelled (as a caller whose answer is lost, it may still have acted).
            let network = network
            let from = from
            let outcome = await withTaskGroup(of: Result<[UInt8], ClusterError>?.self) { group in
                group.addTask {
                    do throws(ClusterError) {
                        return .success(try await network.deliver(kind, body, from: from, to: node))
                    } catch {
                        return .failure(error)
                    }
                }
                group.addTask {
                    await abandonment.waitUntilAbandoned()
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            if let outcome { return try outcome.get() }
            throw ClusterError(.peerUnavailable, "the call to \(node) was abandoned: \(abandonment.reason ?? "")")
        }

        func post(_ kind: PeerMessageKind, _ body: [UInt8], to node: NodeID) {
            network.deliverPosted(kind, body, from: from, to: node)
        }
    }
}

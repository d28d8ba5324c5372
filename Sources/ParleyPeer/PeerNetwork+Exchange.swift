import ParleyCluster

/// Frames that arrived together on one peer's stream, for `serveFrames`.
struct IncomingFrames: Sendable {
    let frames: [PeerFrame]
    let session: ExchangeSession
}

extension PeerNetwork {
    /// Sends one message to `node` on its message stream and returns the answer. While the
    /// stream is being opened (a peer just started, or never reached yet) the call waits for it
    /// within `timeout`; a peer whose last handshake failed fails fast, so callers retry on
    /// their own schedule. Each call waits on its own: one dead peer delays no call to another.
    public func exchange(
        _ kind: PeerMessageKind, _ body: [UInt8], with node: NodeID, timeout: Duration, abandonment: PeerCallAbandonment?
    ) async throws(ClusterError) -> [UInt8] {
        guard let stream = streams[node], let health = health(of: node) else {
            throw ClusterError(.peerUnavailable, "\(node) is not a peer of this node")
        }
        guard !health.isMismatched else {
            throw ClusterError(.peerUnavailable, "\(node) runs another cluster configuration; this node does not talk to it")
        }
        return try await stream.call(Self.wireKind(kind), body, timeout: timeout, failFast: health.isDown, abandonment: abandonment)
    }

    /// Posts one message to `node` on its message stream (`PeerTransport.post`): never waits,
    /// and is dropped when the peer is not a peer, runs another configuration, or is down.
    public func post(_ kind: PeerMessageKind, _ body: [UInt8], to node: NodeID) {
        guard let stream = streams[node], let health = health(of: node), !health.isMismatched else { return }
        stream.post(Self.wireKind(kind), body, failFast: health.isDown)
    }

    /// Frames this node has written to its peers, and the batches they went in.
    public func streamCounters() -> (frames: Int, batches: Int) {
        streams.values.map(\.written).reduce((0, 0)) { ($0.0 + $1.frames, $0.1 + $1.batches) }
    }

    /// A frame a peer posted (id 0, answered by nothing), handed to the inbox on the event loop.
    func takePosted(_ frame: PeerFrame, from sender: NodeID) {
        guard let kind = Self.kind(frame.kind) else { return }
        heard(from: sender)
        inbox.deliverPosted(kind, frame.body, from: sender)
    }

    /// Hands frames from a peer's stream (on the event loop) to `serveFrames`.
    func serve(_ frames: [PeerFrame], on session: ExchangeSession) {
        if case .terminated = work.continuation.yield(IncomingFrames(frames: frames, session: session)) {
            for frame in frames { session.answer(Self.refusal(of: frame, "this node is stopping")) }
        }
    }

    /// Handles every entity call from peers on its own child task (calls are independent; the
    /// entity actors order what must be ordered), and live traffic (events for this node's
    /// sessions, interest: quick and never waiting on anything) in turn as it arrives, until
    /// the node stops and the last frame is answered.
    func serveFrames() async {
        let inbox = inbox
        await withDiscardingTaskGroup { handlers in
            for await incoming in work.stream {
                let sender = incoming.session.sender
                for frame in incoming.frames {
                    if frame.kind == .entityCall {
                        handlers.addTask { incoming.session.answer(await Self.answer(frame, from: sender, inbox: inbox)) }
                    } else {
                        incoming.session.answer(await Self.answer(frame, from: sender, inbox: inbox))
                    }
                }
            }
        }
    }

    /// What `frame` is answered with: the inbox's answer, or why there is none.
    private static func answer(_ frame: PeerFrame, from sender: NodeID, inbox: PeerInbox) async -> PeerFrame {
        guard let kind = kind(frame.kind) else {
            return refusal(of: frame, ClusterError(.peerProtocol, "unknown message kind \(frame.kind.rawValue)").description)
        }
        do {
            return PeerFrame(id: frame.id, body: try await inbox.deliver(kind, frame.body, from: sender))
        } catch {
            return refusal(of: frame, error.description)
        }
    }

    private static func refusal(of frame: PeerFrame, _ reason: String) -> PeerFrame {
        PeerFrame(id: frame.id, error: reason)
    }

    static func wireKind(_ kind: PeerMessageKind) -> Parley_Peer_V1_MessageKind {
        switch kind {
        case .entityCall: .entityCall
        case .liveEvents: .liveEvents
        case .liveInterest: .liveInterest
        case .raft: .raft
        case .raftSnapshot: .raftSnapshot
        }
    }

    static func kind(_ wire: Parley_Peer_V1_MessageKind) -> PeerMessageKind? {
        switch wire {
        case .entityCall: .entityCall
        case .liveEvents: .liveEvents
        case .liveInterest: .liveInterest
        case .raft: .raft
        case .raftSnapshot: .raftSnapshot
        default: nil
        }
    }
}

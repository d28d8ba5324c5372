import Foundation
import GRPCCore
import ParleyCluster
import Synchronization

/// The `parley.peer.v1.PeerExchange` service other nodes call: their streams of messages to
/// this node.
struct ExchangeEndpoint: Parley_Peer_V1_PeerExchange.SimpleServiceProtocol {
    let network: PeerNetwork

    /// A peer's stream of messages: each frame is handed to the inbox on its own child task
    /// (calls are independent; the entity actors order what must be ordered), and the answers
    /// go back in batches of whatever finished while the last batch was being written.
    func exchange(
        request: RPCAsyncSequence<Parley_Peer_V1_FrameBatch, any Error>, response: RPCWriter<Parley_Peer_V1_FrameBatch>,
        context: ServerContext
    ) async throws {
        let answers = AnswerQueue()
        let inbox = network.inbox
        // A stopping node asks the caller to close this stream, so it ends without waiting
        // for the caller's node to stop too.
        network.openedStream(answers)
        defer { network.closedStream(answers) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await answers.write(to: response) }
            defer { answers.finish() }
            try await withThrowingDiscardingTaskGroup { handlers in
                for try await batch in request {
                    let sender = try sender(of: batch)
                    for frame in batch.frames {
                        handlers.addTask { answers.append(await Self.answer(frame, from: sender, inbox: inbox)) }
                    }
                }
            }
        }
    }

    /// What `frame` is answered with: the inbox's answer, or why there is none.
    private static func answer(_ frame: Parley_Peer_V1_Frame, from sender: NodeID, inbox: PeerInbox) async -> Parley_Peer_V1_Frame {
        var answer = Parley_Peer_V1_Frame()
        answer.id = frame.id
        guard let kind = PeerNetwork.kind(frame.kind) else {
            answer.error = ClusterError(.peerProtocol, "unknown message kind \(frame.kind.rawValue)").description
            return answer
        }
        do {
            answer.body = Data(try await inbox.deliver(kind, Array(frame.body), from: sender))
        } catch {
            answer.error = error.description
        }
        return answer
    }

    /// The member a batch comes from; refuses another configuration or a stranger.
    private func sender(of batch: Parley_Peer_V1_FrameBatch) throws -> NodeID {
        guard batch.clusterFingerprint == network.membership.fingerprint else {
            throw RPCError(code: .failedPrecondition, message: "cluster_membership_mismatch: this node runs cluster \(network.membership.fingerprint)")
        }
        guard let sender = NodeID(batch.nodeID), network.membership.member(sender) != nil else {
            throw RPCError(code: .permissionDenied, message: "\(batch.nodeID) is not a member of this cluster")
        }
        return sender
    }
}

/// Answers waiting to be written back on one stream, written by one loop in batches.
final class AnswerQueue: Sendable {
    private struct Queued {
        var answers: [Parley_Peer_V1_Frame] = []
        /// The caller is to be asked to close the stream (this node is stopping).
        var closing = false
        var closingSent = false
    }

    private let queued = Mutex(Queued())
    private let wake: AsyncStream<Void>.Continuation
    private let wakeups: AsyncStream<Void>

    init() {
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func append(_ answer: Parley_Peer_V1_Frame) {
        let first = queued.withLock { queued in
            queued.answers.append(answer)
            return queued.answers.count == 1
        }
        if first { wake.yield() }
    }

    /// Asks the caller to close the stream (with the next batch, or one of its own).
    func requestClose() {
        queued.withLock { $0.closing = true }
        wake.yield()
    }

    /// No more answers: `write` ends once the last are written.
    func finish() { wake.finish() }

    func write(to writer: RPCWriter<Parley_Peer_V1_FrameBatch>) async throws {
        for await _ in wakeups {
            let (answers, closing) = queued.withLock { queued in
                defer { queued.answers.removeAll(keepingCapacity: true) }
                let closing = queued.closing && !queued.closingSent
                if closing { queued.closingSent = true }
                return (queued.answers, closing)
            }
            guard !answers.isEmpty || closing else { continue }
            var batch = Parley_Peer_V1_FrameBatch()
            batch.frames = answers
            batch.closing = closing
            try await writer.write(batch)
        }
    }
}

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Metrics
import ParleyCluster
import Synchronization

/// The calling side of one peer's `Exchange` stream: every message this node sends the peer is
/// a frame on one long-lived bidirectional gRPC stream (one HTTP/2 stream on the pair's one
/// connection), so a message costs a frame, not an RPC. Frames queued while the last batch was
/// being written go out together as the next batch; answers come back batched, matched by id.
///
/// A closed stream is opened again (backing off while the peer is unreachable). Calls whose
/// frame was already written when it closed fail as `peer_unavailable` (the peer may or may
/// not have acted on them, as with any call that loses its answer); frames not yet written
/// wait for the next stream. Every call has its own deadline, enforced by `sweep`.
final class PeerStream: Sendable {
    private struct Waiting {
        let continuation: CheckedContinuation<[UInt8], any Error>
        let deadline: ContinuousClock.Instant
    }

    private struct State {
        var queued: [Parley_Peer_V1_Frame] = []
        var waiting: [UInt64: Waiting] = [:]
        var nextID: UInt64 = 1
        /// Wakes the open stream's writer; nil while no stream is open.
        var wake: AsyncStream<Void>.Continuation?
        /// The peer accepted the open stream (answered its opening).
        var accepted = false
        var stopped = false
        /// How many times the peer asked this node to close the stream (it was stopping).
        var closesRequested = 0
        /// Frames written, and the batches they went in.
        var framesWritten = 0
        var batchesWritten = 0
    }

    let peer: NodeID
    private let state = Mutex(State())

    init(peer: NodeID) {
        self.peer = peer
    }

    /// Sends `body` and returns the peer's answer. `failFast`: the peer is known to be down, so
    /// a call that finds no accepted stream fails at once instead of waiting for one.
    func call(_ kind: Parley_Peer_V1_MessageKind, _ body: [UInt8], timeout: Duration, failFast: Bool) async throws(ClusterError) -> [UInt8] {
        let peer = self.peer
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
                let refusal = state.withLock { state -> ClusterError? in
                    if state.stopped { return ClusterError(.peerUnavailable, "this node is stopping") }
                    if failFast, !state.accepted { return ClusterError(.peerUnavailable, "\(peer) is down") }
                    let id = state.nextID
                    state.nextID += 1
                    var frame = Parley_Peer_V1_Frame()
                    frame.id = id
                    frame.kind = kind
                    frame.body = Data(body)
                    state.queued.append(frame)
                    state.waiting[id] = Waiting(continuation: continuation, deadline: .now + timeout)
                    if state.queued.count == 1 { state.wake?.yield() }
                    return nil
                }
                if let refusal { continuation.resume(throwing: refusal) }
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.peerUnavailable, "\(peer): \(error)")
        }
    }

    /// Keeps a stream open to the peer until `stop()`.
    func run(client: GRPCClient<HTTP2ClientTransport.Posix>, ownID: NodeID, fingerprint: String, maxMessageBytes: Int) async {
        var pause = Duration.milliseconds(50)
        while !isStopped {
            let started = ContinuousClock.now
            let reason = await openOnce(client: client, ownID: ownID, fingerprint: fingerprint, maxMessageBytes: maxMessageBytes)
            failWritten(reason: reason)
            if ContinuousClock.now - started > .seconds(1) { pause = .milliseconds(50) }
            // Sliced so a stop is noticed within 100 ms.
            let until = ContinuousClock.now + pause
            while !isStopped, ContinuousClock.now < until { try? await Task.sleep(for: min(.milliseconds(100), until - .now)) }
            pause = min(pause * 2, .seconds(1))
        }
        failWritten(reason: "this node is stopping")
        failQueued(reason: "this node is stopping")
    }

    /// One stream, from opening to close; returns why it closed.
    private func openOnce(client: GRPCClient<HTTP2ClientTransport.Posix>, ownID: NodeID, fingerprint: String, maxMessageBytes: Int) async -> String {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.maxRequestMessageBytes = maxMessageBytes
        options.maxResponseMessageBytes = maxMessageBytes
        do {
            try await Parley_Peer_V1_PeerExchange.Client(wrapping: client).exchange(options: options) { writer in
                try await self.writeBatches(to: writer, ownID: ownID, fingerprint: fingerprint)
            } onResponse: { response in
                self.state.withLock { $0.accepted = true }
                defer { self.state.withLock { $0.accepted = false } }
                for try await batch in response.messages {
                    for frame in batch.frames { self.answer(frame) }
                    if batch.closing { self.closeWriter() }
                }
            }
            return "the peer closed the stream"
        } catch let error as RPCError where error.code == .failedPrecondition {
            return "the peer refused the stream: \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    /// Writes whatever is queued, one batch per wake-up, until stopped (or cancelled: the
    /// stream closed).
    private func writeBatches(to writer: RPCWriter<Parley_Peer_V1_FrameBatch>, ownID: NodeID, fingerprint: String) async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let stopped = state.withLock { state -> Bool in
            guard !state.stopped else { return true }
            state.wake = wake
            return false
        }
        guard !stopped else { return }
        defer { state.withLock { $0.wake = nil } }
        wake.yield()  // frames queued before the stream opened
        for await _ in wakeups {
            let frames = state.withLock { state -> [Parley_Peer_V1_Frame] in
                defer { state.queued.removeAll(keepingCapacity: true) }
                if !state.queued.isEmpty {
                    state.framesWritten += state.queued.count
                    state.batchesWritten += 1
                }
                return state.queued
            }
            guard !frames.isEmpty else { continue }
            Self.framesSent.increment(by: Int64(frames.count))
            Self.batchesSent.increment()
            var batch = Parley_Peer_V1_FrameBatch()
            batch.frames = frames
            batch.nodeID = ownID.rawValue
            batch.clusterFingerprint = fingerprint
            try await writer.write(batch)
        }
    }

    /// Messages sent to peers, and the batches they travelled in (their ratio is the batching).
    static let framesSent = Counter(label: "parley_peer_frames_sent_total")
    static let batchesSent = Counter(label: "parley_peer_batches_sent_total")

    private func answer(_ frame: Parley_Peer_V1_Frame) {
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: frame.id) }) else { return }  // it timed out
        if frame.error.isEmpty {
            waiting.continuation.resume(returning: Array(frame.body))
        } else {
            waiting.continuation.resume(throwing: ClusterError(.peerUnavailable, "\(peer): \(frame.error)"))
        }
    }

    /// Fails every call past its deadline; runs until `stop()`, every `interval`.
    func sweep(every interval: Duration = .milliseconds(50)) async {
        while !isStopped {
            let now = ContinuousClock.now
            let expired = state.withLock { state -> [Waiting] in
                let ids = state.waiting.filter { $0.value.deadline <= now }.map(\.key)
                guard !ids.isEmpty else { return [] }
                let gone = Set(ids)
                state.queued.removeAll { gone.contains($0.id) }
                return ids.compactMap { state.waiting.removeValue(forKey: $0) }
            }
            for waiting in expired {
                waiting.continuation.resume(throwing: ClusterError(.peerUnavailable, "\(peer) did not answer in time"))
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Ends the stream once what is queued is written; calls after this fail at once.
    func stop() {
        let wake = state.withLock { state in
            state.stopped = true
            return state.wake
        }
        wake?.finish()
    }

    /// The peer is stopping: write nothing more on this stream (what is queued waits for the
    /// next one) and close this side, so the peer can answer what it has and end the stream.
    private func closeWriter() {
        let wake = state.withLock { state in
            state.accepted = false
            state.closesRequested += 1
            defer { state.wake = nil }
            return state.wake
        }
        wake?.finish()
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    var closesRequested: Int { state.withLock { $0.closesRequested } }

    /// Frames written so far, and the batches they went in.
    var written: (frames: Int, batches: Int) { state.withLock { ($0.framesWritten, $0.batchesWritten) } }

    /// Fails the calls whose frames were written on a stream that closed.
    private func failWritten(reason: String) {
        let lost = state.withLock { state -> [Waiting] in
            let unsent = Set(state.queued.map(\.id))
            let written = state.waiting.keys.filter { !unsent.contains($0) }
            return written.compactMap { state.waiting.removeValue(forKey: $0) }
        }
        for waiting in lost { waiting.continuation.resume(throwing: ClusterError(.peerUnavailable, "\(peer): \(reason)")) }
    }

    private func failQueued(reason: String) {
        let lost = state.withLock { state -> [Waiting] in
            defer {
                state.queued = []
                state.waiting = [:]
            }
            return Array(state.waiting.values)
        }
        for waiting in lost { waiting.continuation.resume(throwing: ClusterError(.peerUnavailable, "\(peer): \(reason)")) }
    }
}

import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import ParleyCluster
import Synchronization

/// The calling side of one peer's `Exchange` stream: every message this node sends the peer is
/// a frame on one long-lived HTTP/2 stream on the pair's connection, so a message costs a
/// frame, not a request. A call queues its frame and, if no write is pending, asks the stream's
/// event loop for one; the frames that queued meanwhile go out with it as one batch. Answers
/// come back batched, matched by id, and resume their callers from the event loop.
///
/// A closed stream is opened again (backing off while the peer is unreachable). Calls whose
/// frame was already written when it closed fail as `peer_unavailable` (the peer may or may
/// not have acted on them, as with any call that loses its answer); frames not yet written
/// wait for the next stream. Every call has its own deadline, enforced by `sweep`.
final class PeerStream: Sendable {
    private struct Waiting {
        let continuation: CheckedContinuation<[UInt8], any Error>
        let queuedAt: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant
    }

    private struct State {
        var queued: [PeerFrame] = []
        var waiting: [UInt64: Waiting] = [:]
        var nextID: UInt64 = 1
        /// The stream the peer accepted, frames are written on; nil while there is none.
        var open: (any Channel)?
        var flushScheduled = false
        /// The stream currently opened (accepted or not), until it closes.
        var current: (any Channel)?
        var stopped = false
        /// Why the last stream ended.
        var endReason: String?
        /// How many times the peer asked this node to close the stream (it was stopping).
        var closesRequested = 0
        /// The peer accepted a stream once, and the last attempt to reach it again failed: it
        /// went away (killed, or its network is down), so calls fail fast until it is back.
        var everAccepted = false
        var goneAway = false
        /// Frames written, and the batches they went in.
        var framesWritten = 0
        var batchesWritten = 0
        /// Posted frames dropped: the peer was gone, the stream stopping, or the queue full.
        var postsDropped = 0
        /// The sweeper, parked while no call waits (an idle node wakes for nothing).
        var parkedSweeper: CheckedContinuation<Void, Never>?
        /// When the peer last answered a call, and when the sweeper last suspected it.
        var lastAnswered: ContinuousClock.Instant?
        var lastSuspected: ContinuousClock.Instant?
    }

    /// Frames queued while no stream is open beyond this are not queued: a posted one is
    /// dropped (its protocol resends what matters once the peer is back).
    static let postedQueueLimit = 4_096

    let peer: NodeID
    /// The largest batch the peer takes; batches are cut to stay within it.
    let maxMessageBytes: Int
    private let state = Mutex(State())

    init(peer: NodeID, maxMessageBytes: Int) {
        self.peer = peer
        self.maxMessageBytes = maxMessageBytes
    }

    /// Sends `body` and returns the peer's answer. `failFast`: the peer is known to be down, so
    /// a call that finds no accepted stream fails at once instead of waiting for one. A caller
    /// whose task is cancelled, or whose call is abandoned, gets `peer_unavailable` at once and
    /// its frame, if not yet written, is withdrawn (a written one may still be acted on, as with
    /// a lost answer).
    func call(
        _ kind: Parley_Peer_V1_MessageKind, _ body: [UInt8], timeout: Duration, failFast: Bool, abandonment: PeerCallAbandonment? = nil
    ) async throws(ClusterError) -> [UInt8] {
        let peer = self.peer
        guard body.count <= PeerWire.largestBody(within: maxMessageBytes) else {
            throw ClusterError(.peerProtocol, "a message of \(body.count) bytes is above the peer network's limit of \(maxMessageBytes)")
        }
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
                    let outcome = state.withLock { state -> Result<(any Channel)?, ClusterError> in
                        if state.stopped { return .failure(ClusterError(.peerUnavailable, "this node is stopping")) }
                        if failFast || state.goneAway, state.open == nil { return .failure(ClusterError(.peerUnavailable, "\(peer) is down")) }
                        state.queued.append(PeerFrame(id: id, kind: kind, body: body))
                        let now = ContinuousClock.now
                        state.waiting[id] = Waiting(continuation: continuation, queuedAt: now, deadline: now + timeout)
                        return .success(Self.claimFlush(&state))
                    }
                    wakeSweeper()
                    switch outcome {
                    case let .failure(refusal): continuation.resume(throwing: refusal)
                    case let .success(channel?): channel.eventLoop.execute { self.flush(on: channel) }
                    case .success(nil): break
                    }
                    // Cancelled before the frame was queued: the handler found nothing to withdraw.
                    if Task.isCancelled { withdraw(id) }
                    abandonment?.whenAbandoned { reason in self.withdraw(id, reason: "the call to \(peer) was abandoned: \(reason)") }
                }
            } onCancel: {
                withdraw(id)
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw ClusterError(.peerUnavailable, "\(peer): \(error)")
        }
    }

    /// Queues `body` as a posted frame (id 0): the peer answers none and whether it arrives is
    /// never known. It goes out in order with everything queued before it; while no stream is
    /// open it waits for the next (within `postedQueueLimit`), unless the peer is known gone.
    func post(_ kind: Parley_Peer_V1_MessageKind, _ body: [UInt8], failFast: Bool) {
        guard body.count <= PeerWire.largestBody(within: maxMessageBytes) else {
            state.withLock { $0.postsDropped += 1 }
            return
        }
        let channel = state.withLock { state -> (any Channel)? in
            let unwritable = state.open == nil && (failFast || state.goneAway || state.queued.count >= Self.postedQueueLimit)
            guard !state.stopped, !unwritable else {
                state.postsDropped += 1
                return nil
            }
            state.queued.append(PeerFrame(kind: kind, body: body))
            return Self.claimFlush(&state)
        }
        if let channel { channel.eventLoop.execute { self.flush(on: channel) } }
    }

    /// Fails call `id` (as cancelled unless `reason` says otherwise), taking its frame out of
    /// the queue if it is still there.
    private func withdraw(_ id: UInt64, reason: String? = nil) {
        let waiting = state.withLock { state -> Waiting? in
            guard let waiting = state.waiting.removeValue(forKey: id) else { return nil }
            state.queued.removeAll { $0.id == id }
            return waiting
        }
        waiting?.continuation.resume(throwing: ClusterError(.peerUnavailable, reason ?? "the call to \(peer) was cancelled"))
    }

    /// The open stream, when a write is to be scheduled on it (none is pending yet).
    private static func claimFlush(_ state: inout State) -> (any Channel)? {
        guard let open = state.open, !state.flushScheduled, !state.queued.isEmpty else { return nil }
        state.flushScheduled = true
        return open
    }

    /// Writes what is queued as one batch (on the stream's event loop).
    private func flush(on channel: any Channel) {
        let frames = state.withLock { state -> [PeerFrame] in
            state.flushScheduled = false
            guard state.open === channel, !state.queued.isEmpty else { return [] }
            defer { state.queued.removeAll(keepingCapacity: true) }
            state.framesWritten += state.queued.count
            state.batchesWritten += 1
            return state.queued
        }
        guard !frames.isEmpty else { return }
        for batch in PeerWire.batches(of: frames, limit: maxMessageBytes) { write(batch, on: channel) }
        channel.flush()
    }

    private func write(_ frames: [PeerFrame], on channel: any Channel) {
        PeerWire.write(PeerFrameBatch(frames: frames), on: channel)
    }

    /// Keeps a stream open to the peer until `stop()`.
    func run(connection: PeerConnection, identity: HPACKHeaders, maxMessageBytes: Int) async {
        var pause = Duration.milliseconds(50)
        while !isStopped {
            let started = ContinuousClock.now
            let (reason, unreachable) = await openOnce(connection: connection, identity: identity, maxMessageBytes: maxMessageBytes)
            failWritten(reason: reason)
            if unreachable, state.withLock({ state in
                state.goneAway = state.everAccepted
                return state.goneAway
            }) {
                // A peer that was up and now cannot be reached: its waiting calls fail now
                // (callers retry elsewhere) rather than wait for a stream that may not come.
                failQueued(reason: reason)
            }
            if ContinuousClock.now - started > .seconds(1) { pause = .milliseconds(50) }
            // Sliced so a stop is noticed within 100 ms.
            let until = ContinuousClock.now + pause
            while !isStopped, ContinuousClock.now < until { try? await Task.sleep(for: min(.milliseconds(100), until - .now)) }
            pause = min(pause * 2, .seconds(1))
        }
        failWritten(reason: "this node is stopping")
        failQueued(reason: "this node is stopping")
    }

    /// One stream, from opening to close; returns why it closed, and whether the peer could
    /// not be reached at all.
    private func openOnce(connection: PeerConnection, identity: HPACKHeaders, maxMessageBytes: Int) async -> (String, Bool) {
        do {
            let connected = try await connection.connected()
            let created = connected.channel.eventLoop.makePromise(of: (any Channel).self)
            connected.multiplexer.createStreamChannel(promise: created) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(ExchangeClientHandler(stream: self, headers: identity, maxMessageBytes: maxMessageBytes))
                }
            }
            let channel = try await created.futureResult.get()
            state.withLock { $0.current = channel }
            try? await channel.closeFuture.get()
            let reason = state.withLock { state in
                state.current = nil
                return state.endReason
            }
            return (reason ?? "the stream closed", false)
        } catch {
            return ("\(error)", true)
        }
    }

    // MARK: From the stream's handler, on its event loop

    /// The peer accepted `channel`: what queued meanwhile goes out.
    func accepted(_ channel: any Channel) {
        let stopped = state.withLock { state -> Bool in
            guard !state.stopped else { return true }
            state.open = channel
            state.endReason = nil
            state.everAccepted = true
            state.goneAway = false
            return false
        }
        if stopped {
            Self.endWriting(channel)  // never opened for frames: this is its only end
        } else {
            flush(on: channel)
        }
    }

    func received(_ batch: PeerFrameBatch, on channel: any Channel) {
        for frame in batch.frames { answer(frame) }
        if batch.closing { closeWriter(channel) }
    }

    func ended(_ channel: any Channel, reason: String) {
        state.withLock { state in
            if state.open === channel { state.open = nil }
            if state.endReason == nil { state.endReason = reason }
        }
    }

    private func answer(_ frame: PeerFrame) {
        let waiting = state.withLock { state -> Waiting? in
            state.lastAnswered = .now
            return state.waiting.removeValue(forKey: frame.id)
        }
        guard let waiting else { return }  // it timed out
        if frame.error.isEmpty {
            waiting.continuation.resume(returning: frame.body)
        } else {
            waiting.continuation.resume(throwing: ClusterError(.peerUnavailable, "\(peer): \(frame.error)"))
        }
    }

    /// The peer is stopping: write nothing more on this stream (what is queued waits for the
    /// next one) and close this side, so the peer can answer what it has and end the stream.
    private func closeWriter(_ channel: any Channel) {
        let open = state.withLock { state -> Bool in
            state.closesRequested += 1
            return Self.takeOpen(channel, from: &state)
        }
        if open { Self.endWriting(channel) }
    }

    /// Whether `channel` is the open stream, which it no longer is: whoever gets true writes
    /// its end (once: a second end on a half-closed stream would reset it).
    private static func takeOpen(_ channel: any Channel, from state: inout State) -> Bool {
        guard state.open === channel else { return false }
        state.open = nil
        return true
    }

    /// Closes this side of the stream (on its event loop).
    private static func endWriting(_ channel: any Channel) {
        channel.writeAndFlush(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), promise: nil)
    }

    // MARK: Deadlines and stopping

    /// Fails every call past its deadline; runs until `stop()` (or cancellation), every
    /// `interval` while calls wait, and parks while none does. A call that has waited
    /// `suspectAfter` while nothing was answered for as long makes the sweeper call
    /// `suspect` (at most once per `suspectAfter`): the peer may be cut off, with no socket
    /// closing to say so, and its failure detector can check now rather than at its next round.
    func sweep(every interval: Duration = .milliseconds(50), suspectAfter: Duration? = nil, suspect: @Sendable () -> Void = {}) async {
        while !isStopped, !Task.isCancelled {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (parked: CheckedContinuation<Void, Never>) in
                    let park = state.withLock { state -> Bool in
                        // Under the lock: a call, a stop or a cancellation after this wakes it.
                        guard state.waiting.isEmpty, !state.stopped, !Task.isCancelled else { return false }
                        state.parkedSweeper = parked
                        return true
                    }
                    if !park { parked.resume() }
                }
            } onCancel: {
                wakeSweeper()
            }
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
            if let suspectAfter, state.withLock({ Self.suspects(&$0, at: now, after: suspectAfter) }) { suspect() }
            try? await Task.sleep(for: interval)
        }
    }

    /// The peer answered something else (a handshake): it is alive, whatever waits on it.
    func noteAnswered() { state.withLock { $0.lastAnswered = .now } }

    /// Whether the peer is suspect at `now`: a call has waited `after`, nothing was answered
    /// within `after` (a call sent just before the peer fell silent is still caught), and it
    /// was not suspected within `after` (recorded).
    private static func suspects(_ state: inout State, at now: ContinuousClock.Instant, after: Duration) -> Bool {
        guard let oldest = state.waiting.values.lazy.map(\.queuedAt).min(), now - oldest >= after else { return false }
        if let answered = state.lastAnswered, now - answered < after { return false }
        if let suspected = state.lastSuspected, now - suspected < after { return false }
        state.lastSuspected = now
        return true
    }

    /// Resumes the sweeper if it is parked: a call waits now, or the stream stops.
    private func wakeSweeper() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.parkedSweeper = nil }
            return state.parkedSweeper
        }?.resume()
    }

    /// Ends the stream once what is queued is written; calls after this fail at once.
    func stop() {
        let channel = state.withLock { state -> (any Channel)? in
            state.stopped = true
            return state.open
        }
        wakeSweeper()
        guard let channel else { return }
        channel.eventLoop.execute {
            self.flush(on: channel)
            if self.state.withLock({ Self.takeOpen(channel, from: &$0) }) { Self.endWriting(channel) }
        }
    }

    /// Stops, and fails every call at once (the network could not start).
    func abandon(reason: String) {
        stop()
        failQueued(reason: reason)
    }

    /// Fails the calls still waiting for a stream (the peer was found down: they would only
    /// wait out their deadlines).
    func failUnsent(reason: String) {
        let lost = state.withLock { state -> [Waiting] in
            guard state.open == nil else { return [] }
            defer { state.queued = [] }
            return state.queued.compactMap { state.waiting.removeValue(forKey: $0.id) }
        }
        for waiting in lost { waiting.continuation.resume(throwing: ClusterError(.peerUnavailable, "\(peer): \(reason)")) }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    /// Whether a stream to the peer is open (until it has closed).
    var isOpen: Bool { state.withLock { $0.current != nil } }

    var closesRequested: Int { state.withLock { $0.closesRequested } }

    /// Frames written so far, and the batches they went in.
    var written: (frames: Int, batches: Int) { state.withLock { ($0.framesWritten, $0.batchesWritten) } }

    /// Posted frames dropped so far.
    var postsDropped: Int { state.withLock { $0.postsDropped } }

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

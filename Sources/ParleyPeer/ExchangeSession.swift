import Foundation
import NIOCore
import NIOHTTP2
import ParleyCluster
import Synchronization

/// The answering side of one peer's `Exchange` stream. Frames arrive on the event loop and
/// are handled on their own child tasks (`PeerNetwork.serveFrames`); each answer is appended
/// here from whatever task finished it, and the answers that gathered while the event loop was
/// busy go back as one batch: one event-loop hop and one write per batch, not per answer.
///
/// The stream ends (OK trailers) once the caller closed its side and every frame it sent is
/// answered. A stopping node asks the caller to close (`closing`), so the stream ends without
/// waiting for the caller's node to stop too.
final class ExchangeSession: Sendable {
    private struct State {
        var answers: [PeerFrame] = []
        var flushScheduled = false
        /// Frames received and not yet answered.
        var outstanding = 0
        /// The caller closed its side of the stream.
        var callerDone = false
        var closeRequested = false
        var closeSent = false
        /// Trailers written or the stream gone: nothing more is written.
        var ended = false
    }

    let sender: NodeID
    private let channel: any Channel
    private let maxMessageBytes: Int
    private let state = Mutex(State())

    init(sender: NodeID, channel: any Channel, maxMessageBytes: Int) {
        self.sender = sender
        self.channel = channel
        self.maxMessageBytes = maxMessageBytes
    }

    /// `count` frames arrived (on the event loop, before they are handed out).
    func received(_ count: Int) { state.withLock { $0.outstanding += count } }

    /// One frame's answer, from the task that handled it.
    func answer(_ frame: PeerFrame) {
        let schedule = state.withLock { state -> Bool in
            guard !state.ended else { return false }
            state.answers.append(frame)
            state.outstanding -= 1
            return Self.claimFlush(&state)
        }
        if schedule { channel.eventLoop.execute { self.flush() } }
    }

    /// The caller closed its side (on the event loop).
    func callerFinished() {
        let schedule = state.withLock { state -> Bool in
            state.callerDone = true
            return Self.claimFlush(&state)
        }
        if schedule { flush() }
    }

    /// Asks the caller to close the stream (this node is stopping).
    func requestClose() {
        let schedule = state.withLock { state -> Bool in
            state.closeRequested = true
            return Self.claimFlush(&state)
        }
        if schedule { channel.eventLoop.execute { self.flush() } }
    }

    /// The stream is gone: answers still to come are dropped.
    func streamClosed() { state.withLock { $0.ended = true } }

    private static func claimFlush(_ state: inout State) -> Bool {
        guard !state.flushScheduled, !state.ended else { return false }
        state.flushScheduled = true
        return true
    }

    /// Writes what gathered (on the event loop), and the trailers once everything is answered.
    private func flush() {
        let (answers, closing, end) = state.withLock { state -> ([PeerFrame], Bool, Bool) in
            state.flushScheduled = false
            guard !state.ended else { return ([], false, false) }
            defer { state.answers.removeAll(keepingCapacity: true) }
            let closing = state.closeRequested && !state.closeSent
            if closing { state.closeSent = true }
            let end = state.callerDone && state.outstanding == 0
            if end { state.ended = true }
            return (state.answers, closing, end)
        }
        if !answers.isEmpty || closing {
            let groups = answers.isEmpty ? [[]] : PeerWire.batches(of: answers, limit: maxMessageBytes)
            for (index, frames) in groups.enumerated() {
                PeerWire.write(PeerFrameBatch(frames: frames, closing: closing && index == groups.count - 1), on: channel)
            }
        }
        if end {
            channel.write(HTTP2Frame.FramePayload.headers(.init(headers: PeerWire.trailers(.ok), endStream: true)), promise: nil)
        }
        channel.flush()
    }
}

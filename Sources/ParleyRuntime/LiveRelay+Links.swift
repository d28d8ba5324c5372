import ParleyCluster
import ParleyDomain
import Synchronization

/// This node's two ordered streams with one peer: interest going out (what this node's
/// sessions need from the peer) and deliveries going out (the peer's sessions' events from
/// the entities this node serves). Each is drained by one loop, so messages leave in order
/// and a slow or dead peer holds up no other.
final class PeerLink: Sendable {
    let peer: NodeID

    private struct Interest {
        /// Callers waiting until their interest has reached the peer.
        var waiters: [CheckedContinuation<Void, Never>] = []
        var renewalDue = false
        /// What the peer holds of this node's interest, as far as is known (nil: unknown).
        var sent: LiveInterest?
        var stopped = false
    }

    private struct Outgoing {
        var deliveries: [[UInt8]] = []
        var dropped = 0
        var stopped = false
    }

    private let interest = Mutex(Interest())
    private let outgoing = Mutex(Outgoing())
    private let interestWake: AsyncStream<Void>.Continuation
    let interestWakeups: AsyncStream<Void>
    private let outgoingWake: AsyncStream<Void>.Continuation
    let outgoingWakeups: AsyncStream<Void>

    init(peer: NodeID) {
        self.peer = peer
        (interestWakeups, interestWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (outgoingWakeups, outgoingWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Waits until this node's current interest has reached the peer (or failed to).
    func ensure() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let stopped = interest.withLock { state -> Bool in
                guard !state.stopped else { return true }
                state.waiters.append(waiter)
                return false
            }
            if stopped { waiter.resume() } else { interestWake.yield() }
        }
    }

    func renewalDue() {
        interest.withLock { $0.renewalDue = true }
        interestWake.yield()
    }

    /// The waiters and whether a renewal is due, taken together; and what the peer holds.
    func takeInterestRound() -> (waiters: [CheckedContinuation<Void, Never>], renewalDue: Bool, sent: LiveInterest?) {
        interest.withLock { state in
            defer {
                state.waiters = []
                state.renewalDue = false
            }
            return (state.waiters, state.renewalDue, state.sent)
        }
    }

    func recordSent(_ sent: LiveInterest?) { interest.withLock { $0.sent = sent } }

    func enqueue(_ delivery: [UInt8], limit: Int) {
        let first = outgoing.withLock { state -> Bool in
            guard !state.stopped else { return false }
            if state.deliveries.count >= limit {
                state.dropped += state.deliveries.count
                state.deliveries.removeAll()
            }
            state.deliveries.append(delivery)
            return state.deliveries.count == 1
        }
        if first { outgoingWake.yield() }
    }

    /// Everything queued (and how many were dropped since the last take).
    func takeDeliveries() -> (deliveries: [[UInt8]], dropped: Int) {
        outgoing.withLock { state in
            defer {
                state.deliveries = []
                state.dropped = 0
            }
            return (state.deliveries, state.dropped)
        }
    }

    func discardDeliveries() { _ = takeDeliveries() }

    func stop() {
        let waiters = interest.withLock { state in
            state.stopped = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        outgoing.withLock { $0.stopped = true }
        interestWake.finish()
        outgoingWake.finish()
    }
}

extension LiveRelay {
    /// Keeps `link`'s peer up to date with what this node's sessions need from it: a delta when
    /// something changed, a bare renewal when due, everything when the peer holds nothing.
    func renewInterest(over link: PeerLink) async {
        for await _ in link.interestWakeups {
            let (waiters, renewalDue, sent) = link.takeInterestRound()
            let desired = interest(servedBy: link.peer)
            let message = sent.map { desired.update(from: $0) } ?? .full(desired)
            // Callers waiting to follow or attend need the peer to hold this node's interest
            // now: a renewal tells (a peer that lost it answers needFull and gets it all).
            if message != .renew || renewalDue || !waiters.isEmpty {
                var answer = await exchangeInterest(message, with: link.peer)
                if answer == .needFull { answer = await exchangeInterest(.full(desired), with: link.peer) }
                link.recordSent(answer == .accepted ? desired : nil)
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Sends one interest message; nil when the peer could not be reached.
    private func exchangeInterest(_ message: InterestMessage, with peer: NodeID) async -> InterestAnswer? {
        do {
            let answer = try await transport.exchange(
                .liveInterest, LiveRelayCodec.encode(message, boot: boot), with: peer, timeout: configuration.callTimeout)
            return try LiveRelayCodec.decodeAnswer(answer)
        } catch {
            logger.debug("interest not delivered", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return nil
        }
    }

    /// Sends `link`'s queued deliveries in order, one batch per round trip, retrying a batch
    /// while the peer's interest lasts (a peer that stays away is forgotten and its queue
    /// dropped; it asks again when it returns).
    func sendDeliveries(over link: PeerLink) async {
        for await _ in link.outgoingWakeups {
            while !stopping.load(ordering: .acquiring) {
                let (deliveries, dropped) = link.takeDeliveries()
                if dropped > 0 { logger.warning("live deliveries dropped for a slow peer", metadata: ["peer": "\(link.peer)", "dropped": "\(dropped)"]) }
                guard !deliveries.isEmpty else { break }
                await deliver(LiveRelayCodec.frame(deliveries), to: link)
            }
        }
    }

    private func deliver(_ frame: [UInt8], to link: PeerLink) async {
        var pause = Duration.milliseconds(50)
        while !stopping.load(ordering: .acquiring) {
            do {
                _ = try await transport.exchange(.liveEvents, frame, with: link.peer, timeout: configuration.callTimeout)
                return
            } catch {
                guard table.withLock({ $0.isLive(link.peer, at: .now) }) else {
                    link.discardDeliveries()
                    return
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
    }
}

import Foundation
import NIOCore
import ParleyCluster

extension PeerNetwork {
    /// Greets every peer until stopped; the first refusal to join, if any, stops the others.
    func greetAll(joiningUntil joinDeadline: ContinuousClock.Instant) async -> ClusterError? {
        await withTaskGroup(of: ClusterError?.self) { group in
            for connection in connections.values {
                group.addTask { await self.greet(connection, joiningUntil: joinDeadline) }
            }
            var refusal: ClusterError?
            for await outcome in group {
                guard let outcome else { continue }
                refusal = refusal ?? outcome
                beginStopping()
            }
            return refusal
        }
    }

    /// Greets a peer until stopped: a handshake per heartbeat while it answers, backing off
    /// while it does not, and at once (a probe, with `probeTimeout`) when `suspectAll` asks.
    /// Returns the refusal when the peer runs another cluster configuration while this node
    /// is still joining.
    private func greet(_ connection: PeerConnection, joiningUntil joinDeadline: ContinuousClock.Instant) async -> ClusterError? {
        let peer = connection.peer.id
        let doorbell = doorbells[peer] ?? Doorbell()
        while !stopping.load(ordering: .acquiring) {
            let probe = probesAsked.withLock { $0.remove(peer) != nil }
            if probe { probesMade.add(1, ordering: .relaxed) }
            let timeout = probe ? min(configuration.probeTimeout, configuration.callTimeout) : configuration.callTimeout
            if let refusal = await handshake(over: connection, timeout: timeout, joiningUntil: joinDeadline) { return refusal }
            let delay = health.withLock { $0[peer]?.nextAttempt(jitter: Double.random(in: 0...1)) } ?? configuration.heartbeat
            guard !stopping.load(ordering: .acquiring) else { break }
            await doorbell.wait(atMost: delay)
        }
        return nil
    }

    /// One handshake over `connection`, its outcome recorded; the refusal if this node must
    /// not join. A peer that stops answering has its connection closed, so calls waiting on
    /// it fail now rather than at their deadlines, and the next handshake dials afresh.
    private func handshake(
        over connection: PeerConnection, timeout: Duration, joiningUntil joinDeadline: ContinuousClock.Instant
    ) async -> ClusterError? {
        let peer = connection.peer.id
        var request = Parley_Peer_V1_HelloRequest()
        request.nodeID = ownID.rawValue
        request.clusterFingerprint = membership.fingerprint
        request.clusterDescription = membership.canonicalDescription
        request.sentAtMs = Int64(Date().timeIntervalSince1970 * 1_000)
        let sent = ContinuousClock.now
        let response: Parley_Peer_V1_HelloResponse
        do {
            let bytes = try PeerWire.frame(request, allocator: ByteBufferAllocator())
            let answer = try await connection.unary(
                path: PeerWire.helloPath, request: bytes, timeout: timeout, maxMessageBytes: configuration.maxMessageBytes)
            response = try PeerWire.decode(Parley_Peer_V1_HelloResponse.self, from: answer)
        } catch {
            // The connection may be stuck (a peer that accepts but never answers): the next
            // greeting dials afresh. A peer that was up and stopped answering is as good as
            // gone to the receiver (a stopped process, a cut network: no socket closes to say
            // so): its Raft groups elect now, and quiet groups it belongs to wake.
            connection.reset()
            let wasUp = health(of: peer)?.isUp ?? false
            markDown(peer, reason: error.message, warning: "peer stopped answering")
            if wasUp, !stopping.load(ordering: .acquiring) { inbox.deliverGone(peer) }
            return nil
        }
        let now = ContinuousClock.now
        guard let refusal = membership.agreement(withFingerprint: response.clusterFingerprint, description: response.clusterDescription) else {
            joined.store(true, ordering: .releasing)
            let wasDown = health(of: peer)?.isDown ?? false
            record(peer) { $0.answered(at: now, roundTrip: now - sent) }
            // A call still waiting on a live peer (a long one) does not keep it suspect.
            streams[peer]?.noteAnswered()
            if wasDown { logger.info("peer answers again", metadata: ["peer": "\(peer)", "probe": "\(timeout < configuration.callTimeout)"]) }
            return nil
        }
        record(peer) { $0.refused(reason: refusal.message) }
        if !joined.load(ordering: .acquiring) && now < joinDeadline {
            logger.critical("refusing to join: a peer runs another cluster configuration", metadata: ["peer": "\(peer)", "error": "\(refusal)"])
            return refusal
        }
        logger.error("peer runs another cluster configuration; not talking to it", metadata: ["peer": "\(peer)", "error": "\(refusal)"])
        return nil
    }

    /// This node's answer to a peer's handshake: its view of the cluster. A refusal marks the
    /// caller mismatched (it is greeted by this node's own loop too, which keeps its liveness).
    func answerHello(_ request: Parley_Peer_V1_HelloRequest) -> Parley_Peer_V1_HelloResponse {
        var response = Parley_Peer_V1_HelloResponse()
        response.nodeID = ownID.rawValue
        response.clusterFingerprint = membership.fingerprint
        response.clusterDescription = membership.canonicalDescription
        let refusal = membership.agreement(withFingerprint: request.clusterFingerprint, description: request.clusterDescription)
        if let refusal, let caller = NodeID(request.nodeID) { record(caller) { $0.refused(reason: refusal.message) } }
        if refusal == nil, let caller = NodeID(request.nodeID) { heard(from: caller) }
        response.accepted = refusal == nil
        if let refusal {
            response.errorCode = refusal.code.rawValue
            response.errorMessage = refusal.message
        }
        return response
    }
}

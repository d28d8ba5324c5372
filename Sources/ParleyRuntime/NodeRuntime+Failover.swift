import ParleyCluster
import ParleyDomain

/// Calls on replicated partitions, whose leaders move (a failover, a transfer).
extension NodeRuntime {
    /// Performs `call` wherever `partition` is served now. A refusal that only says "not here,
    /// not now" is retried (`FailoverRetries`: pauses doubling from 10 to 160 ms, each cut short
    /// when the partition's route moves on) until `forwardTimeout`;
    /// an attempt at a node that stops being the leader meanwhile (the Raft view moved on,
    /// e.g. it was killed) is abandoned at once and retried at the new one; an attempt at a
    /// node that is only a hint (this node does not replicate the partition) gets at most
    /// `hintedAttemptLimit`, after which the hint is dropped and the replicas are asked.
    /// Clients see a slower answer during a failover, not an error.
    func performReplicated<R>(
        _ call: () -> EntityCall, partition: PartitionID, here: () async throws(RuntimeError) -> R, remote: (EntityReply) throws(RuntimeError) -> R
    ) async throws(RuntimeError) -> R {
        let served = configuration.servedPartitions
        var retries = FailoverRetries(deadline: ContinuousClock.now + configuration.forwardTimeout)
        while true {
            do {
                let route = served.route(partition)
                switch route {
                case .here:
                    return try await here()
                case let .elsewhere(leader?):
                    return try remote(try await attempt(call(), on: leader, while: route, partition: partition, deadline: retries.deadline))
                case .elsewhere(nil):
                    guard let replica = served.replica(of: partition, turn: retries.turn) else { return try await here() }
                    return try remote(try await attempt(call(), on: replica, while: route, partition: partition, deadline: retries.deadline))
                }
            } catch {
                guard case let .retry(pause) = retries.next(afterRefusal: error.code, at: ContinuousClock.now) else { throw error }
                if let cutOff = cutOffRefusal(for: partition) { throw cutOff }
                served.noteLeader(from: error, of: partition)
                Self.failoverRetries.increment()
                await pauseBeforeRetry(pause, partition: partition)
                if Task.isCancelled {
                    throw .unavailable(code: "cancelled", message: "the call was cancelled while its partition changed leader")
                }
            }
        }
    }

    /// Waits `pause`, or less if `partition`'s route moves on from what it is now (this node
    /// learned of a new leader, or became it): the retry goes at once rather than after the
    /// rest of the pause. Returns at once when the task is cancelled.
    private func pauseBeforeRetry(_ pause: Duration, partition: PartitionID) async {
        let served = configuration.servedPartitions
        let route = served.route(partition)
        await withTaskGroup(of: Void.self) { waits in
            waits.addTask { try? await Task.sleep(for: pause) }
            waits.addTask {
                let (moved, signal) = AsyncStream<Void>.makeStream()
                let watch = served.watchRouteChange(of: partition, from: route) { signal.finish() }
                for await _ in moved {}  // ends when the route moved, or when cancelled
                served.endWatch(watch)
            }
            await waits.next()
            waits.cancelAll()
        }
    }

    /// The refusal of a node through which no answer can come for `partition`
    /// (`FailoverRetries.isCutOff`), so its caller tries another node rather than being held
    /// for `forwardTimeout`. Down means marked down by the peer network (a failed handshake or
    /// a refused dial); a peer not met yet counts as up.
    func cutOffRefusal(for partition: PartitionID) -> RuntimeError? {
        guard let peers else { return nil }
        let served = configuration.servedPartitions
        guard case let .elsewhere(leader) = served.route(partition) else { return nil }
        let others = served.interestedNodes(of: partition)
        let own = served.replicates(partition) ? 1 : 0
        let reachable = others.filter { peers.isUp($0) }.count + own
        guard FailoverRetries.isCutOff(leaderUp: leader.map(peers.isUp), replicas: others.count + own, reachable: reachable) else { return nil }
        return .unavailable(
            code: RuntimeError.partitionUnreachable,
            message: "this node reaches \(reachable) of partition \(partition.rawValue)'s \(others.count + own) replicas, fewer than a majority; try another node")
    }

    /// How long an attempt at a node known only by hint may take before the replicas are asked.
    static let hintedAttemptLimit: Duration = .seconds(1)

    /// One forwarded attempt at `node`, abandoned (as `peer_unavailable`) when this node's
    /// view of `partition` moves on from `route` (it is woken by the change: no timer per
    /// call), or, for a node not known as the leader by this node's own Raft view (a hint, or
    /// a replica asked while no leader is known), after `hintedAttemptLimit`.
    private func attempt(
        _ call: EntityCall, on node: NodeID, while route: PartitionRoute, partition: PartitionID, deadline: ContinuousClock.Instant
    ) async throws(RuntimeError) -> EntityReply {
        let served = configuration.servedPartitions
        let viewed = served.replicates(partition)
        let known = viewed && route == .elsewhere(node)
        let timeout = (known ? deadline : min(deadline, ContinuousClock.now + Self.hintedAttemptLimit)) - ContinuousClock.now
        guard viewed else {
            // No view of its own to watch: the peer call's own deadline bounds the attempt.
            do {
                return try await perform(call, on: node, timeout: timeout)
            } catch where error.code == ClusterError.Code.peerUnavailable.rawValue {
                served.forgetLeader(node, of: partition)
                throw error
            }
        }
        // Abandoned (its frame withdrawn, its caller answered) once the view moves on.
        let abandonment = PeerCallAbandonment()
        let watch = served.watchRouteChange(of: partition, from: route) {
            abandonment.abandon("\(node) stopped leading partition \(partition)")
        }
        defer { served.endWatch(watch) }
        do {
            return try await perform(call, on: node, timeout: timeout, abandonment: abandonment)
        } catch {
            if let reason = abandonment.reason { throw .unavailable(code: ClusterError.Code.peerUnavailable.rawValue, message: reason) }
            throw error
        }
    }
}

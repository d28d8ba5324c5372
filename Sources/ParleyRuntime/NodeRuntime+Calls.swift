import Metrics
import ParleyCluster
import ParleyDomain

extension NodeRuntime: PeerReceiver {
    /// Performs `call` on this node when it serves the entity's partition, else forwards it to
    /// the node that does and answers with what that node answered.
    func perform(_ call: EntityCall) async throws(RuntimeError) -> EntityReply {
        try await perform(on: call.entity, { call }, here: { () async throws(RuntimeError) -> EntityReply in try await performHere(call) }, remote: { $0 })
    }

    /// Performs a call on `entity`: `here` on this node when it serves the entity's partition
    /// (typed, nothing encoded), else `call()` forwarded to the node that does, its reply
    /// read by `remote`.
    func perform<R>(
        on entity: EntityID?, _ call: () -> EntityCall, here: () async throws(RuntimeError) -> R, remote: (EntityReply) throws(RuntimeError) -> R
    ) async throws(RuntimeError) -> R {
        Self.entityCalls.increment()
        guard peers != nil, let entity else { return try await here() }
        let served = configuration.servedPartitions
        let partition = partitioner.partition(of: entity)
        guard served.isReplicated else {
            if let node = served.servingNode(of: partition) { return try remote(try await perform(call(), on: node)) }
            return try await here()
        }
        return try await performReplicated(call, partition: partition, here: here, remote: remote)
    }

    /// Whether this node serves staff member `staff`'s account (reads of it are local).
    public func servesAccount(of staff: StaffID) -> Bool {
        configuration.servedPartitions.serves(staffStore.partition(of: staff))
    }

    /// Sends `call` to `node` and returns its answer (or its refusal, as this node's error).
    func perform(
        _ call: EntityCall, on node: NodeID, timeout: Duration? = nil, abandonment: PeerCallAbandonment? = nil
    ) async throws(RuntimeError) -> EntityReply {
        guard let peers else { throw .unavailable(code: ClusterError.Code.peerUnavailable.rawValue, message: "this node has no peers") }
        let answer: [UInt8]
        do {
            answer = try await peers.exchange(
                .entityCall, EntityCallCodec.encode(call), with: node, timeout: max(.milliseconds(1), timeout ?? configuration.forwardTimeout),
                abandonment: abandonment)
        } catch {
            Self.forwardFailures.increment()
            throw .unavailable(code: error.code.rawValue, message: "\(node), which serves this entity, did not answer: \(error.message)")
        }
        Self.forwardedCalls.increment()
        let result: Result<EntityReply, RuntimeError>
        do {
            result = try EntityCallCodec.decodeResult(answer)
        } catch {
            throw .internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "\(node) answered unreadably: \(error.message)")
        }
        return try result.get()
    }

    /// What a peer sent: a call for an entity this node serves (performed here, never
    /// forwarded again, so a misrouted call cannot loop), or live fan-out traffic.
    public func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
        switch kind {
        case .entityCall:
            return EntityCallCodec.encode(await answer(body, from: node))
        case .liveEvents, .liveInterest:
            return await relay?.receive(kind, body, from: node) ?? []
        case .raft, .raftSnapshot:
            return []  // the node's `PeerRouter` hands these to the replicated log
        }
    }

    private func answer(_ body: [UInt8], from node: NodeID) async -> Result<EntityReply, RuntimeError> {
        let call: EntityCall
        do {
            call = try EntityCallCodec.decodeCall(body)
        } catch {
            logger.warning("unreadable call from a peer", metadata: ["peer": "\(node)", "error": "\(error)"])
            return .failure(.internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "unreadable call: \(error.message)"))
        }
        do {
            return .success(try await performHere(call))
        } catch {
            return .failure(error)
        }
    }

    /// Performs `call` on this node. Entity registries of partitions served elsewhere refuse
    /// with `partition_elsewhere`, so nothing is decided on the wrong node.
    func performHere(_ call: EntityCall) async throws(RuntimeError) -> EntityReply {
        // Nothing is read or decided here for a partition another node serves (the registries
        // refuse too; this also covers reads and file chunks that go to the store directly).
        if let entity = call.entity {
            let partition = try guardServed(entity)
            // A read is served only once a quorum confirmed this node still leads: a leader
            // cut off from its replicas refuses rather than answer from stale state.
            if call.isRead, needsConfirmation(call) { try await configuration.servedPartitions.confirmRead(of: partition) }
        }
        switch call {
        case let .command(entity, caller, payload, origin, answer):
            let bytes = try await boundKind(entity.kind).command(entity, payload, caller: caller, origin: origin, answer: answer)
            return answer == .none ? .done : .bytes(bytes)
        case let .read(entity, caller, name, payload):
            return .bytes(try await boundKind(entity.kind).read(entity, name: name, caller: caller, payload: payload, runtime: self))
        case let .applyEffects(entity, commands):
            try await boundKind(entity.kind).applyEffects(entity, commands)
            return .done
        case let .fireTimer(entity, tag, deadline):
            try await boundKind(entity.kind).fireTimer(entity, tag: tag, deadline: deadline)
            return .done
        }
    }

    /// Whether a read must wait for a quorum's confirmation: all but registered reads that say
    /// they need none.
    private func needsConfirmation(_ call: EntityCall) -> Bool {
        guard case let .read(entity, _, name, _) = call else { return true }
        return kinds[entity.kind.rawValue]?.isLinearizable(read: name) ?? true
    }

    /// Refuses calls for an entity whose partition another node serves.
    @discardableResult
    private func guardServed(_ entity: EntityID) throws(RuntimeError) -> PartitionID {
        let partition = partitioner.partition(of: entity)
        if let refusal = configuration.servedPartitions.refusal(for: partition) { throw refusal }
        return partition
    }

    /// The staff member's sessions on this node and those other nodes keep renewing.
    func presenceHere(of staff: StaffID) -> StaffPresence {
        var sessions = relay?.remoteSessions(of: staff) ?? [:]
        let local = liveSessions?.sessionCount(of: staff) ?? 0
        if local > 0 { sessions[configuration.servedPartitions.node ?? ServedPartitions.standalone] = local }
        return StaffPresence(staff: staff, sessions: sessions)
    }

    /// Entity calls this node made on behalf of its clients and services (here or forwarded).
    static let entityCalls = Counter(label: "parley_entity_calls_total")
    /// Calls tried again because their partition's leader moved or was being elected.
    static let failoverRetries = Counter(label: "parley_failover_retries_total")
    /// Those of them forwarded to the node serving the entity.
    static let forwardedCalls = Counter(label: "parley_forwarded_calls_total")
    static let forwardFailures = Counter(label: "parley_forward_failures_total")
}

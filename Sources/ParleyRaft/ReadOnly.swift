/// One read-index request awaiting leadership confirmation.
struct ReadIndexStatus: Sendable, Equatable {
    var from: NodeID
    var index: UInt64
    var context: [UInt8]
    var acks: Set<NodeID> = []
}

/// The leader's queue of read-index requests (etcd's ReadOnlySafe): each records the commit
/// index when it arrived and is answered once a quorum acknowledged a heartbeat carrying its
/// context (or a later one).
struct ReadOnly: Sendable, Equatable {
    private(set) var pending: [[UInt8]: ReadIndexStatus] = [:]
    private(set) var queue: [[UInt8]] = []

    mutating func add(index: UInt64, from: NodeID, context: [UInt8]) {
        if pending[context] != nil { return }
        pending[context] = ReadIndexStatus(from: from, index: index, context: context)
        queue.append(context)
    }

    /// Records an acknowledgement; returns the acks for `context` so far.
    mutating func ack(from: NodeID, context: [UInt8]) -> Set<NodeID> {
        guard pending[context] != nil else { return [] }
        pending[context]!.acks.insert(from)
        return pending[context]!.acks
    }

    /// Releases `context` and every request queued before it.
    mutating func release(through context: [UInt8]) -> [ReadIndexStatus] {
        guard let position = queue.firstIndex(of: context) else { return [] }
        let released = queue[...position].compactMap { pending.removeValue(forKey: $0) }
        queue.removeFirst(position + 1)
        return released
    }

    var lastContext: [UInt8]? { queue.last }

    mutating func reset() {
        pending.removeAll()
        queue.removeAll()
    }
}

import ParleyRaft

/// The reads a partition's leader holds until Raft confirms, by ReadIndex, that it still led
/// when they arrived: every read the driver takes in one round shares one request (one
/// heartbeat round to a quorum), then waits until the applied index reaches the commit index
/// the confirmation names. A pure value the driver keeps in its `RaftGroup`.
struct PendingReads: Sendable {
    /// Requests Raft has not answered, by context, with how many ticks they have waited.
    private var requested: [UInt64: (tickets: [AppendTicket], ticks: Int)] = [:]
    /// Confirmed reads waiting for the applied index to reach `index`.
    private var confirmed: [(index: UInt64, term: UInt64, tickets: [AppendTicket])] = []
    private var nextContext: UInt64 = 1

    var isEmpty: Bool { requested.isEmpty && confirmed.isEmpty }

    /// Registers `tickets` as one request; returns the context to hand Raft's `readIndex`.
    mutating func request(_ tickets: [AppendTicket]) -> [UInt8] {
        let context = nextContext
        nextContext += 1
        requested[context] = (tickets, 0)
        return Self.encode(context)
    }

    /// A request Raft refused at once: its tickets, to be failed.
    mutating func withdraw(_ context: [UInt8]) -> [AppendTicket] {
        guard let key = Self.decode(context) else { return [] }
        return requested.removeValue(forKey: key)?.tickets ?? []
    }

    /// Raft confirmed these requests (at `term`): they now wait for their index to apply.
    mutating func confirm(_ states: [ReadState], term: UInt64) {
        for state in states {
            guard let key = Self.decode(state.context), let request = requested.removeValue(forKey: key) else { continue }
            confirmed.append((state.index, term, request.tickets))
        }
    }

    /// The confirmed reads whose index is applied, with the position they read at.
    mutating func takeServable(applied: UInt64) -> [(index: UInt64, term: UInt64, tickets: [AppendTicket])] {
        guard confirmed.contains(where: { $0.index <= applied }) else { return [] }
        let servable = confirmed.filter { $0.index <= applied }
        confirmed.removeAll { $0.index <= applied }
        return servable
    }

    /// One tick: requests unanswered for `limit` ticks are returned to be failed (Raft drops a
    /// request whose leadership ended; the caller retries wherever the partition is served).
    mutating func tick(limit: Int) -> [AppendTicket] {
        var expired: [AppendTicket] = []
        for key in Array(requested.keys) {
            requested[key]!.ticks += 1
            if requested[key]!.ticks >= limit { expired += requested.removeValue(forKey: key)!.tickets }
        }
        return expired
    }

    /// Every waiting read, for failing them when leadership moves on.
    mutating func takeAll() -> [AppendTicket] {
        defer {
            requested = [:]
            confirmed = []
        }
        return requested.values.flatMap(\.tickets) + confirmed.flatMap(\.tickets)
    }

    private static func encode(_ context: UInt64) -> [UInt8] { withUnsafeBytes(of: context.bigEndian, Array.init) }

    private static func decode(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

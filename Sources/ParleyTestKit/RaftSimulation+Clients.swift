import ParleyRaft

/// A client with at most one operation outstanding.
struct SimClient {
    let id: Int
    var sequence = 0
    var pending: PendingOperation?

    init(id: Int) { self.id = id }
}

struct PendingOperation {
    enum Kind {
        /// Proposed at (index, term); done when the proposer applies that very entry.
        case put(index: UInt64, term: UInt64, op: Int)
        /// Waiting for the read index, then for the node to apply up to it.
        case get(key: String, context: [UInt8], readIndex: UInt64?)
    }
    /// Position in `history`.
    var record: Int
    /// Index of the node the client talks to.
    var node: Int
    var deadline: Int
    var kind: Kind
}

extension RaftSimulation {
    mutating func instant() -> UInt64 {
        clock += 1
        return clock
    }

    mutating func runClients() {
        for c in clients.indices where clients[c].pending == nil && chance(0.4) {
            let alive = nodes.indices.filter { nodes[$0].raft != nil }
            let leader = alive.first { nodes[$0].raft!.role == .leader }
            guard let target = (chance(0.7) ? leader : nil) ?? pick(alive), let key = pick(options.keys) else { continue }
            clients[c].sequence += 1
            if chance(0.5) {
                startPut(client: c, node: target, key: key)
            } else {
                startGet(client: c, node: target, key: key)
            }
        }
    }

    private mutating func startPut(client c: Int, node i: Int, key: String) {
        let value = "c\(c).\(clients[c].sequence)"
        let op = history.count
        let call = instant()
        do {
            let (index, term) = try nodes[i].raft!.propose(SimCodec.put(op: op, key: key, value: value))
            history.append(KVOperation(client: c, input: .put(key: key, value: value), output: nil, call: call, completion: nil))
            clients[c].pending = PendingOperation(record: op, node: i, deadline: now + 60, kind: .put(index: index, term: term, op: op))
            trace("client \(c): put \(key)=\(value) on node \(nodes[i].id) at \(index)/\(term)")
        } catch {
            // Refused: it never took effect, so it is not part of the history.
        }
    }

    private mutating func startGet(client c: Int, node i: Int, key: String) {
        let op = history.count
        let context = Array("g\(op)".utf8)
        let call = instant()
        do {
            try nodes[i].raft!.readIndex(context: context)
            history.append(KVOperation(client: c, input: .get(key: key), output: nil, call: call, completion: nil))
            clients[c].pending = PendingOperation(record: op, node: i, deadline: now + 60, kind: .get(key: key, context: context, readIndex: nil))
            trace("client \(c): get \(key) on node \(nodes[i].id)")
        } catch {
            // Refused (no known leader): not part of the history.
        }
    }

    /// Node `i` applied `entry`: completes a put proposed there at that index.
    mutating func putApplied(node i: Int, _ entry: Entry) {
        for c in clients.indices {
            guard let p = clients[c].pending, p.node == i, case .put(let index, let term, let op) = p.kind, index == entry.index else { continue }
            if entry.term == term, SimCodec.decode(entry.data)?.op == op {
                history[p.record].completion = instant()
                clients[c].pending = nil
                trace("client \(c): put done at \(index)")
            } else {
                abandon(client: c, reason: "index \(index) holds another entry")
            }
        }
    }

    /// Node `i` jumped past pending puts by installing a snapshot: their outcome is unknown.
    mutating func putsOvertaken(node i: Int) {
        for c in clients.indices {
            guard let p = clients[c].pending, p.node == i, case .put(let index, _, _) = p.kind, index <= nodes[i].lastApplied else { continue }
            abandon(client: c, reason: "snapshot installed past \(index)")
        }
    }

    mutating func readIndexAnswered(node i: Int, _ state: ReadState) {
        for c in clients.indices {
            guard var p = clients[c].pending, p.node == i, case .get(let key, let context, nil) = p.kind, context == state.context else { continue }
            p.kind = .get(key: key, context: context, readIndex: state.index)
            clients[c].pending = p
        }
    }

    /// Serves reads whose read index node `i` has applied.
    mutating func serveReads(node i: Int) {
        for c in clients.indices {
            guard let p = clients[c].pending, p.node == i, case .get(let key, _, let readIndex?) = p.kind,
                  readIndex <= nodes[i].lastApplied else { continue }
            history[p.record].output = nodes[i].kv[key]
            history[p.record].completion = instant()
            clients[c].pending = nil
            trace("client \(c): get \(key) = \(nodes[i].kv[key] ?? "nil") at read index \(readIndex)")
        }
    }

    mutating func expireClientOperations() {
        for c in clients.indices where (clients[c].pending?.deadline ?? Int.max) < now {
            abandon(client: c, reason: "timed out")
        }
    }

    /// Gives up on a client's operation: it stays in the history without a completion.
    mutating func abandon(client c: Int, reason: String) {
        guard clients[c].pending != nil else { return }
        clients[c].pending = nil
        trace("client \(c): abandoned (\(reason))")
    }
}

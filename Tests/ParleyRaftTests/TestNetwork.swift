import ParleyRaft

/// A tiny in-test network: it runs every node's Ready cycle, keeps each node's "disk", and
/// delivers messages (unless `drop` says otherwise) until nothing moves.
struct TestNetwork {
    var nodes: [NodeID: RaftNode] = [:]
    var disks: [NodeID: PersistentState] = [:]
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var snapshotsApplied: [NodeID: [Snapshot]] = [:]
    /// Every message delivered, in order.
    var delivered: [Message] = []
    /// Messages for which this returns true are lost.
    var drop: (Message) -> Bool = { _ in false }
    var isolated: Set<NodeID> = []

    static func config(_ id: NodeID, _ ids: [NodeID], preVote: Bool = true, checkQuorum: Bool = true,
                       maxEntries: Int = 256, seed: UInt64 = 1, quiesceTicks: Int = 0) -> RaftConfig {
        var config = RaftConfig(id: id, voters: ids, electionTick: 10, heartbeatTick: 1, preVote: preVote,
                                checkQuorum: checkQuorum, maxInflight: 8, maxEntriesPerMessage: maxEntries, seed: seed)
        config.quiesceTicks = quiesceTicks
        return config
    }

    init(ids: [NodeID], preVote: Bool = true, checkQuorum: Bool = true, maxEntries: Int = 256, seed: UInt64 = 1, quiesceTicks: Int = 0) {
        for id in ids {
            let config = Self.config(
                id, ids, preVote: preVote, checkQuorum: checkQuorum, maxEntries: maxEntries, seed: seed, quiesceTicks: quiesceTicks)
            nodes[id] = try! RaftNode(config: config)
            disks[id] = PersistentState(hardState: HardState())
        }
    }

    /// Nodes built from given persisted states (logs crafted by a test).
    init(states: [NodeID: PersistentState], preVote: Bool = true, checkQuorum: Bool = true, maxEntries: Int = 256) {
        let ids = states.keys.sorted()
        for id in ids {
            let config = Self.config(id, ids, preVote: preVote, checkQuorum: checkQuorum, maxEntries: maxEntries)
            nodes[id] = try! RaftNode(config: config, restoring: states[id]!)
            disks[id] = states[id]!
        }
    }

    var ids: [NodeID] { nodes.keys.sorted() }

    func leader() -> NodeID? {
        let leaders = ids.filter { nodes[$0]!.role == .leader }
        return leaders.max { nodes[$0]!.term < nodes[$1]!.term }
    }

    func blocked(_ m: Message) -> Bool {
        isolated.contains(m.from) || isolated.contains(m.to) || drop(m)
    }

    /// Handles one node's Ready (persist, collect messages, apply, advance).
    mutating func processReady(_ id: NodeID) -> [Message] {
        guard var node = nodes[id], node.hasReady else { return [] }
        let rd = node.ready()
        disks[id]!.persist(rd)
        if let snap = rd.snapshot { snapshotsApplied[id, default: []].append(snap) }
        applied[id, default: []].append(contentsOf: rd.committedEntries)
        readStates[id, default: []].append(contentsOf: rd.readStates)
        node.advance(rd)
        nodes[id] = node
        return rd.messages
    }

    /// Runs Ready cycles and deliveries until quiet (bounded).
    mutating func drain(maxRounds: Int = 200) {
        for _ in 0..<maxRounds {
            var messages: [Message] = []
            for id in ids { messages += processReady(id) }
            if messages.isEmpty && !ids.contains(where: { nodes[$0]!.hasReady }) { return }
            deliver(messages)
        }
    }

    mutating func deliver(_ messages: [Message]) {
        for m in messages where !blocked(m) {
            guard nodes[m.to] != nil else { continue }
            delivered.append(m)
            nodes[m.to]!.step(m)
        }
    }

    /// Ticks the given nodes (default: all) `n` times, draining after each tick.
    mutating func tick(_ n: Int, only: [NodeID]? = nil) {
        for _ in 0..<n {
            for id in only ?? ids { nodes[id]!.tick() }
            drain()
        }
    }

    /// A network of `ids` in which `leader` campaigned and won (nodes in `isolated` missed it).
    static func led(by leader: NodeID, ids: [NodeID] = [1, 2, 3], isolated: Set<NodeID> = []) -> TestNetwork {
        var net = TestNetwork(ids: ids)
        net.isolated = isolated
        net.nodes[leader]!.campaign()
        net.drain()
        return net
    }

    /// Ticks until some node leads (bounded); returns it.
    mutating func electLeader(maxTicks: Int = 200) -> NodeID? {
        for _ in 0..<maxTicks {
            if let l = leader(), nodes[l]!.commitIndex >= nodes[l]!.lastIndex { return l }
            tick(1)
        }
        return leader()
    }

    func count(_ kind: MessageKind, from: NodeID? = nil, to: NodeID? = nil, reject: Bool? = nil) -> Int {
        delivered.filter { m in
            m.kind == kind && (from == nil || m.from == from) && (to == nil || m.to == to) && (reject == nil || m.reject == reject)
        }.count
    }
}

/// Persisted state with a log whose entries have the given terms (index 1...).
func persisted(terms: [UInt64], term: UInt64, vote: NodeID = 0, commit: UInt64 = 0) -> PersistentState {
    let entries = terms.enumerated().map { Entry(term: $0.element, index: UInt64($0.offset + 1), data: [UInt8($0.offset & 0xFF)]) }
    return PersistentState(hardState: HardState(term: term, vote: vote, commit: commit), entries: entries)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

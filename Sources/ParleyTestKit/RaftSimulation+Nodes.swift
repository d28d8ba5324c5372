import ParleyRaft

/// One simulated node: its Raft instance (nil while crashed), its disk, and the per-key
/// register state machine applied from committed entries.
struct SimNode {
    let id: NodeID
    let voters: [NodeID]
    let seed: UInt64
    var raft: RaftNode?
    /// What the shell fsync'd: survives every crash.
    var disk = PersistentState(hardState: HardState())
    /// Written without an fsync since the last one (Readies that changed only the commit
    /// index, as production writes them): a process crash keeps them (the OS has them), a
    /// machine crash keeps only a prefix of them.
    var unsynced: [Ready] = []
    var kv: [String: String] = [:]
    var lastApplied: UInt64 = 0
    var downUntil = 0
    var restarts = 0
    var lastRole: Role = .follower
    /// A crash scheduled for this step (e.g. shortly after the node became leader).
    var crashAt: Int?

    /// Flow-control limits (drawn per run).
    let maxInflight: Int
    let maxEntriesPerMessage: Int
    /// Committed entries per Ready (0: all; production applies a backlog in parts).
    let maxCommittedEntriesPerReady: Int

    init(id: NodeID, voters: [NodeID], seed: UInt64, maxInflight: Int, maxEntriesPerMessage: Int, maxCommittedEntriesPerReady: Int) {
        self.id = id
        self.voters = voters
        self.seed = seed
        self.maxInflight = maxInflight
        self.maxEntriesPerMessage = maxEntriesPerMessage
        self.maxCommittedEntriesPerReady = maxCommittedEntriesPerReady
        raft = try! RaftNode(config: config())
    }

    func config() -> RaftConfig {
        var config = RaftConfig(
            id: id, voters: voters, electionTick: 10, heartbeatTick: 2, preVote: true, checkQuorum: true,
            maxInflight: maxInflight, maxEntriesPerMessage: maxEntriesPerMessage, seed: seed &+ UInt64(restarts) &* 7919)
        config.maxCommittedEntriesPerReady = maxCommittedEntriesPerReady
        return config
    }

    /// Writes one Ready's snapshot, entries and hard state as production does: fsync'd
    /// (with everything written before it) when it has a snapshot, entries, or a new term or
    /// vote; else (a commit index alone) written without an fsync.
    mutating func persist(_ rd: Ready) {
        let newVote = rd.hardState.map { $0.term != disk.hardState.term || $0.vote != disk.hardState.vote } ?? false
        guard rd.snapshot != nil || !rd.entries.isEmpty || newVote else {
            if rd.hardState != nil { unsynced.append(rd) }
            return
        }
        for write in unsynced { disk.persist(write) }
        unsynced = []
        disk.persist(rd)
    }

    /// Everything written, fsync'd or not: what the OS holds, and what a process crash leaves.
    var written: PersistentState {
        var view = disk
        for write in unsynced { view.persist(write) }
        return view
    }

    /// What a crash leaves on disk: every write after a process crash; after a machine crash
    /// the fsync'd ones and the first `keeping` of the others (a torn tail).
    mutating func settleDisk(machineCrash: Bool, keeping: Int) {
        for write in unsynced.prefix(machineCrash ? keeping : unsynced.count) { disk.persist(write) }
        unsynced = []
    }
}

/// Commands in entries: `P|opID|key|value`. Snapshots: `key=value` lines, sorted.
enum SimCodec {
    static func put(op: Int, key: String, value: String) -> [UInt8] { Array("P|\(op)|\(key)|\(value)".utf8) }

    static func decode(_ data: [UInt8]) -> (op: Int, key: String, value: String)? {
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "P", let op = Int(parts[1]) else { return nil }
        return (op, String(parts[2]), String(parts[3]))
    }

    static func snapshot(_ kv: [String: String]) -> [UInt8] {
        Array(kv.keys.sorted().map { "\($0)=\(kv[$0]!)" }.joined(separator: "\n").utf8)
    }

    static func restore(_ data: [UInt8]) -> [String: String] {
        var kv: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { kv[String(pair[0])] = String(pair[1]) }
        }
        return kv
    }
}

extension RaftSimulation {
    /// Runs node `i`'s Ready cycle until it has nothing left (bounded).
    mutating func processReadies(_ i: Int) {
        for _ in 0..<8 {
            guard let raft = nodes[i].raft, raft.hasReady else { return }
            let rd = raft.ready()
            checkReady(i, rd)
            // As production's round: a leader's appends and heartbeats go out before its
            // write (its followers' answers are taken only after it); the others' messages
            // promise what is on disk and go out after it.
            let leads = raft.role == .leader && rd.snapshot == nil
            if leads {
                for m in rd.messages { send(m) }
                if now < options.faultSteps, !rd.entries.isEmpty, nodes.filter({ $0.raft == nil }).count < maxDown, chance(crashBeforeLeaderWriteRate) {
                    trace("node \(nodes[i].id): crash after a leader's appends went out, before its own write")
                    markCrashed(i)
                    return
                }
            }
            nodes[i].persist(rd)
            if !leads { for m in rd.messages { send(m) } }
            // Crash right after an fsync'd vote or append acknowledgement went out: the
            // restarted node must remember what it promised.
            if now < options.faultSteps, rd.promises,
               nodes.filter({ $0.raft == nil }).count < maxDown, chance(crashAfterPromiseRate) {
                trace("node \(nodes[i].id): crash right after a vote or acknowledgement")
                markCrashed(i)
                return
            }
            if let soft = rd.softState, soft.role != nodes[i].lastRole || soft.role == .leader {
                trace("node \(nodes[i].id): \(soft.role) term \(raft.term) leader \(soft.leader)")
                // A leader that dies young leaves its no-op entry on a minority: the
                // "figure 8" situations of the Raft paper.
                if soft.role == .leader && nodes[i].lastRole != .leader && now < options.faultSteps && chance(crashNewLeaderRate) {
                    nodes[i].crashAt = now + Int(rng.next(below: 6))
                }
                nodes[i].lastRole = soft.role
            }
            if let snap = rd.snapshot { installSnapshot(i, snap) }
            for entry in rd.committedEntries { apply(i, entry) }
            for state in rd.readStates { readIndexAnswered(node: i, state) }
            nodes[i].raft!.advance(rd)
            maybeCompact(i)
            serveReads(node: i)
        }
    }

    mutating func installSnapshot(_ i: Int, _ snap: Snapshot) {
        trace("node \(nodes[i].id): install snapshot at \(snap.metadata.index) term \(snap.metadata.term)")
        invariants.checkSnapshot(node: nodes[i].id, snap)
        snapshotsInstalled += 1
        nodes[i].kv = SimCodec.restore(snap.data)
        nodes[i].lastApplied = snap.metadata.index
        putsOvertaken(node: i)
    }

    mutating func apply(_ i: Int, _ entry: Entry) {
        invariants.checkApply(node: nodes[i].id, lastApplied: nodes[i].lastApplied, entry, observedTerm: nodes[i].raft!.term)
        nodes[i].lastApplied = entry.index
        if let command = SimCodec.decode(entry.data) {
            nodes[i].kv[command.key] = command.value
        }
        putApplied(node: i, entry)
    }

    mutating func maybeCompact(_ i: Int) {
        guard var raft = nodes[i].raft else { return }
        let applied = raft.appliedIndex
        guard applied == nodes[i].lastApplied, applied >= raft.firstIndex - 1 + options.snapshotEvery else { return }
        guard let snap = try? raft.createSnapshot(at: applied, data: SimCodec.snapshot(nodes[i].kv)) else { return }
        nodes[i].raft = raft
        invariants.checkSnapshot(node: nodes[i].id, snap)
        nodes[i].disk.snapshot = snap
        nodes[i].disk.entries.removeAll { $0.index <= applied }
    }

    /// Crashes node `i`: memory is lost, the disk survives. Sometimes the crash hits in the
    /// middle of a Ready: after the fsync, before (some of) its messages went out.
    mutating func crash(_ i: Int) {
        if chance(0.5), let raft = nodes[i].raft, raft.hasReady {
            let rd = raft.ready()
            checkReady(i, rd)
            nodes[i].persist(rd)
            for m in rd.messages where chance(0.5) { send(m) }
            trace("node \(nodes[i].id): crash after persisting a Ready (\(rd.entries.count) entries)")
        } else {
            trace("node \(nodes[i].id): crash")
        }
        markCrashed(i)
        if chance(0.5) { hintGone(i) }
    }

    /// Tells the live nodes that node `i` is gone, as a node's shell does when its connection
    /// to a killed peer closes and a new dial is refused: the first live node (by index) is
    /// the successor. Sometimes a node misses the hint (it took its time to notice).
    mutating func hintGone(_ i: Int) {
        let gone = nodes[i].id
        let alive = nodes.indices.filter { $0 != i && nodes[$0].raft != nil }
        trace("nodes \(alive.map { nodes[$0].id }): told \(gone) is gone, successor \(alive.first.map { "\(nodes[$0].id)" } ?? "none")")
        for j in alive where chance(0.9) { nodes[j].raft!.leaderUnreachable(gone, campaign: j == alive.first) }
    }

    mutating func markCrashed(_ i: Int) {
        crashes += 1
        let machine = chance(machineCrashShare)
        let kept = Int(rng.next(below: UInt64(nodes[i].unsynced.count + 1)))
        if machine, nodes[i].unsynced.count > kept {
            trace("node \(nodes[i].id): the machine crashed: \(nodes[i].unsynced.count - kept) of \(nodes[i].unsynced.count) writes not fsync'd are lost")
        }
        nodes[i].settleDisk(machineCrash: machine, keeping: kept)
        nodes[i].raft = nil
        nodes[i].kv = [:]
        nodes[i].lastApplied = 0
        nodes[i].lastRole = .follower
        // Half the restarts are quick (mid-election, same term), half long (needs catch-up).
        nodes[i].downUntil = now + 1 + Int(rng.next(below: chance(0.5) ? 4 : 60))
        for c in clients.indices where clients[c].pending?.node == i { abandon(client: c, reason: "node crashed") }
    }

    /// Rebuilds node `i` from its disk.
    mutating func restart(_ i: Int) {
        nodes[i].restarts += 1
        let disk = nodes[i].disk
        do {
            nodes[i].raft = try RaftNode(config: nodes[i].config(), restoring: disk)
        } catch {
            invariants.fail("node \(nodes[i].id) cannot restart from its disk: \(error)")
            nodes[i].downUntil = Int.max
            return
        }
        nodes[i].kv = disk.snapshot.map { SimCodec.restore($0.data) } ?? [:]
        nodes[i].lastApplied = disk.snapshot?.metadata.index ?? 0
        trace("node \(nodes[i].id): restart (term \(disk.hardState.term), vote \(disk.hardState.vote), commit \(disk.hardState.commit), snapshot \(nodes[i].lastApplied), \(disk.entries.count) entries)")
    }
}

extension Ready {
    /// Whether this Ready sends promises about the disk: a granted vote, or an
    /// acknowledgement of entries it persists.
    var promises: Bool {
        messages.contains { m in
            !m.reject && (m.kind == .voteResponse || (m.kind == .appendResponse && !entries.isEmpty))
        }
    }
}

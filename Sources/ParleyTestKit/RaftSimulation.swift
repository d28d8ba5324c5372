#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ParleyRaft

/// Knobs of one deterministic Raft simulation run. Defaults are what the test suite uses;
/// `runSimulation(seed:trace:)` derives the per-run fault rates from the seed.
public struct RaftSimulationOptions: Sendable, Equatable {
    /// Steps with faults (loss, duplication, delay, partitions, crashes, transfers).
    public var faultSteps: Int
    /// Steps afterwards with every node up and a perfect network (liveness check).
    public var quietSteps: Int
    /// Cluster size; nil picks 3 or 5 from the seed.
    public var nodeCount: Int?
    public var clients: Int
    public var keys: [String]
    /// A node snapshots and compacts its log after this many applied entries.
    public var snapshotEvery: UInt64

    public init(faultSteps: Int = 300, quietSteps: Int = 120, nodeCount: Int? = nil, clients: Int = 3,
                keys: [String] = ["x", "y"], snapshotEvery: UInt64 = 16) {
        self.faultSteps = faultSteps
        self.quietSteps = quietSteps
        self.nodeCount = nodeCount
        self.clients = clients
        self.keys = keys
        self.snapshotEvery = snapshotEvery
    }
}

/// The result of one run: empty `violations` and a linearizable history mean it passed.
public struct SimulationOutcome: Sendable {
    public var seed: UInt64
    public var nodeCount: Int
    /// Safety violations found while running (election safety, log matching, leader
    /// completeness, state machine safety) and liveness failures after the quiet phase.
    public var violations: [String]
    /// The checker's verdict on the client history (nil: not checked, a safety invariant
    /// already failed).
    public var verdict: LinearizabilityVerdict?
    public var operations: Int
    public var completedOperations: Int
    public var elections: Int
    public var crashes: Int
    /// Counts of the other faults and events exercised (to see that a run covered them).
    public var partitions: Int
    public var transfers: Int
    public var snapshotsInstalled: Int
    public var messagesSent: Int
    public var messagesLost: Int
    /// Event-by-event trace (only when asked for).
    public var trace: [String]

    public var passed: Bool { violations.isEmpty && verdict == .linearizable }

    public var summary: String {
        "seed \(seed): \(passed ? "ok" : "FAILED") nodes=\(nodeCount) ops=\(operations) completed=\(completedOperations) "
            + "elections=\(elections) crashes=\(crashes) partitions=\(partitions) transfers=\(transfers) "
            + "snapshots=\(snapshotsInstalled) messages=\(messagesSent) lost=\(messagesLost) "
            + "verdict=\(verdict.map { "\($0)" } ?? "not checked")"
            + (violations.isEmpty ? "" : " violations=\(violations.prefix(3))")
    }
}

/// Runs one seeded simulation of a whole Raft cluster (see `RaftSimulation`). With `trace`,
/// the outcome carries the event-by-event trace.
public func runSimulation(seed: UInt64, trace: Bool = false) -> SimulationOutcome {
    runSimulation(seed: seed, options: RaftSimulationOptions(), trace: trace)
}

/// As above with explicit options. With `echo`, every trace line is also printed (and
/// flushed) as it happens, so a run that traps still shows how it got there.
public func runSimulation(seed: UInt64, options: RaftSimulationOptions, trace: Bool = false, echo: Bool = false) -> SimulationOutcome {
    var simulation = RaftSimulation(seed: seed, options: options, trace: trace || echo, echo: echo)
    return simulation.run()
}

/// A whole Raft cluster in one process, driven by one seed: a simulated network that loses,
/// delays, reorders and duplicates messages and partitions nodes; a simulated disk per node
/// holding exactly what the shell persisted from `Ready`s (a crash loses everything else);
/// crashes and restarts; clients doing `put`s through proposals and linearizable `get`s
/// through ReadIndex against a per-key register. Safety invariants are checked at every
/// step and the client history is checked for linearizability at the end.
///
/// Everything random comes from one SplitMix64 seeded by the run's seed, so a seed replays
/// exactly: `PARLEY_SIM_SEED=N swift test --filter RaftSimulationTests` prints its trace.
struct RaftSimulation {
    let seed: UInt64
    let options: RaftSimulationOptions
    var rng: SplitMix64
    var now = 0
    /// Monotonic instant counter for the client history.
    var clock: UInt64 = 0
    var nodes: [SimNode] = []
    var network: SimNetwork
    var clients: [SimClient] = []
    var history: [KVOperation] = []
    var invariants = SimInvariants()
    /// Trace lines, when tracing (a reference so that tracing needs no exclusive access).
    let traceLog: TraceLog?
    var crashes = 0
    var partitions = 0
    var transfers = 0
    var snapshotsInstalled = 0
    let maxDown: Int
    // Fault rates for this run.
    let crashRate: Double
    let partitionRate: Double
    let transferRate: Double
    let crashAfterPromiseRate: Double
    let crashNewLeaderRate: Double
    /// A leader crashes after its messages went out, before its own write (production sends a
    /// leader's appends before its fsync).
    let crashBeforeLeaderWriteRate: Double
    /// The share of crashes that are the machine's (power lost: writes not fsync'd are lost,
    /// all but a prefix of them), not only the process's (the OS keeps what was written).
    let machineCrashShare: Double

    init(seed: UInt64, options: RaftSimulationOptions, trace: Bool, echo: Bool = false) {
        self.seed = seed
        self.options = options
        var rng = SplitMix64(seed: seed &* 0xD1B5_4A32_D192_ED03 &+ 17)
        let count = options.nodeCount ?? (rng.next(below: 2) == 0 ? 3 : 5)
        // Mostly a minority down at once; in some runs all but one node (unavailable, still safe).
        maxDown = rng.next(below: 3) == 0 ? count - 1 : (count - 1) / 2
        network = SimNetwork(
            lossRate: Double(rng.next(below: 11)) / 100, duplicateRate: Double(rng.next(below: 6)) / 100,
            maxDelay: 1 + Int(rng.next(below: 4)))
        crashRate = [0.0, 0.004, 0.01, 0.02][Int(rng.next(below: 4))]
        partitionRate = [0.0, 0.01, 0.03][Int(rng.next(below: 3))]
        transferRate = [0.0, 0.005, 0.02][Int(rng.next(below: 3))]
        crashAfterPromiseRate = [0.0, 0.02, 0.1][Int(rng.next(below: 3))]
        crashNewLeaderRate = [0.0, 0.2, 0.5][Int(rng.next(below: 3))]
        traceLog = trace ? TraceLog(echo: echo) : nil
        let ids = (1...count).map { NodeID($0) }
        let maxInflight = [1, 2, 4][Int(rng.next(below: 3))]
        let maxEntries = [1, 2, 8][Int(rng.next(below: 3))]
        crashBeforeLeaderWriteRate = [0.0, 0.02, 0.1][Int(rng.next(below: 3))]
        machineCrashShare = [0.0, 0.5, 1.0][Int(rng.next(below: 3))]
        let maxCommitted = [0, 1, 3][Int(rng.next(below: 3))]
        self.rng = rng
        for id in ids {
            nodes.append(
                SimNode(id: id, voters: ids, seed: seed, maxInflight: maxInflight, maxEntriesPerMessage: maxEntries, maxCommittedEntriesPerReady: maxCommitted))
        }
        for c in 0..<options.clients { clients.append(SimClient(id: c)) }
    }

    func trace(_ line: @autoclosure () -> String) {
        traceLog?.append("[\(now)] " + line())
    }

    mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double(rng.next(below: 1_000_000)) < p * 1_000_000
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(rng.next(below: UInt64(items.count)))]
    }

    mutating func run() -> SimulationOutcome {
        trace("start: \(nodes.count) nodes, loss \(network.lossRate), dup \(network.duplicateRate), delay ≤ \(network.maxDelay), crash \(crashRate), partition \(partitionRate), transfer \(transferRate)")
        let total = options.faultSteps + options.quietSteps
        for step in 0..<total {
            now = step
            if step < options.faultSteps {
                injectFaults()
            } else if step == options.faultSteps {
                enterQuietPhase()
            }
            deliverMessages()
            for i in nodes.indices where nodes[i].raft != nil && (step >= options.faultSteps || chance(0.95)) {
                nodes[i].raft!.tick()
            }
            runClients()
            for i in nodes.indices { processReadies(i) }
            checkEveryStep()
            expireClientOperations()
            if !invariants.violations.isEmpty && traceLog == nil { break }
        }
        finishLiveness()
        for c in clients.indices { abandon(client: c, reason: "end of run") }
        let verdict = invariants.violations.isEmpty ? LinearizabilityChecker.check(history, maxStatesPerKey: 200_000) : nil
        trace("verdict: \(verdict.map { "\($0)" } ?? "not checked")")
        return SimulationOutcome(
            seed: seed, nodeCount: nodes.count, violations: invariants.violations, verdict: verdict,
            operations: history.count, completedOperations: history.filter { $0.completion != nil }.count,
            elections: invariants.leadersByTerm.count, crashes: crashes, partitions: partitions, transfers: transfers,
            snapshotsInstalled: snapshotsInstalled, messagesSent: network.sent, messagesLost: network.lost,
            trace: traceLog?.lines ?? [])
    }

    mutating func enterQuietPhase() {
        trace("quiet phase: heal, restart everyone, no loss, delays ≤ 2")
        network.heal()
        network.lossRate = 0
        network.duplicateRate = 0
        // Liveness needs round trips well under the election timeout (10–20 ticks): with
        // delays of up to 5 steps each way, split votes can repeat for a long time.
        network.maxDelay = 2
        for i in nodes.indices where nodes[i].raft == nil { restart(i) }
    }

    /// After the quiet phase (everyone up, perfect network) there must be one leader, which
    /// every node follows and which committed an entry of its term.
    mutating func finishLiveness() {
        guard invariants.violations.isEmpty, options.quietSteps >= 100 else { return }
        let rafts = nodes.compactMap(\.raft)
        guard let leader = rafts.filter({ $0.role == .leader }).max(by: { $0.term < $1.term }) else {
            invariants.fail("liveness: no leader after \(options.quietSteps) quiet steps")
            return
        }
        if let stray = rafts.first(where: { $0.leader != leader.id }) {
            invariants.fail("liveness: node \(stray.id) follows \(stray.leader), not leader \(leader.id)")
        }
        if leader.term(at: leader.commitIndex) != leader.term {
            invariants.fail("liveness: leader \(leader.id) committed nothing in term \(leader.term)")
        }
    }

    mutating func injectFaults() {
        let down = nodes.filter { $0.raft == nil }.count
        if down < maxDown && chance(crashRate) {
            let alive = nodes.indices.filter { nodes[$0].raft != nil }
            let leaderIndex = alive.first { nodes[$0].raft!.role == .leader }
            if let victim = (chance(0.5) ? leaderIndex : nil) ?? pick(alive) { crash(victim) }
        }
        for i in nodes.indices where (nodes[i].crashAt ?? Int.max) <= now {
            nodes[i].crashAt = nil
            if nodes.filter({ $0.raft == nil }).count < maxDown { crash(i) }
        }
        for i in nodes.indices where nodes[i].raft == nil && now >= nodes[i].downUntil { restart(i) }
        if network.partitionUntil == nil && chance(partitionRate) {
            partition()
        } else if let until = network.partitionUntil, now >= until {
            trace("heal partition")
            network.heal()
        }
        if chance(transferRate), let l = nodes.indices.first(where: { nodes[$0].raft?.role == .leader }) {
            if let target = pick(nodes.map(\.id).filter { $0 != nodes[l].id }) {
                trace("node \(nodes[l].id): transfer leadership to \(target)")
                transfers += 1
                try? nodes[l].raft!.transferLeadership(to: target)
            }
        }
        if chance(0.02) { network.maxDelay = 1 + Int(rng.next(below: 5)) }
        // A wrong hint: a live leader reported gone to one of its followers (a connection
        // that closed for another reason), which must cost at most an election.
        if chance(0.005), let j = pick(nodes.indices.filter({ nodes[$0].raft?.role == .follower && nodes[$0].raft!.leader != 0 })) {
            let leader = nodes[j].raft!.leader
            trace("node \(nodes[j].id): told its live leader \(leader) is gone")
            nodes[j].raft!.leaderUnreachable(leader, campaign: chance(0.5))
        }
    }

    mutating func partition() {
        let ids = nodes.map(\.id)
        var groups: [NodeID: Int] = [:]
        if chance(0.5) {
            // Isolate one node, often the leader.
            let leader = nodes.first { $0.raft?.role == .leader }?.id
            let victim = (chance(0.6) ? leader : nil) ?? pick(ids)!
            for id in ids { groups[id] = id == victim ? 1 : 0 }
        } else {
            for id in ids { groups[id] = Int(rng.next(below: 2)) }
        }
        network.groups = groups
        network.oneWay = chance(0.25)
        partitions += 1
        network.partitionUntil = now + 10 + Int(rng.next(below: 80))
        trace("partition\(network.oneWay ? " (one way: 1 cannot reach 0)" : "") \(ids.map { "\($0):\(groups[$0]!)" }.joined(separator: " ")) until \(network.partitionUntil!)")
    }
}

/// Collected trace lines of one run.
final class TraceLog {
    var lines: [String] = []
    let echo: Bool

    init(echo: Bool) { self.echo = echo }

    func append(_ line: String) {
        lines.append(line)
        if echo {
            print(line)
            fflush(nil)
        }
    }
}

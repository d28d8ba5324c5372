import ParleyRaft

/// One partition's replica on this node, as the driver thread keeps it: the Raft instance,
/// what of its log is on disk, what is applied, and the proposals waiting to commit.
///
/// A class, changed in place: the driver reads and changes its groups dozens of times a
/// round, and a value in a dictionary is copied on every read (retaining the node's whole
/// state) and moved out and back on every change. Not `Sendable`: only the driver thread
/// touches a group once the log runs (the log hands them over once, through a mutex).
final class RaftGroup {
    let partition: PartitionID
    var node: RaftNode
    /// The last log index persisted (a longer persisted tail is deleted when overwritten).
    var persistedLastIndex: UInt64
    /// The hard state last written (a term or vote change must be fsync'd before any message
    /// goes out; a commit index alone need not).
    var persistedHardState: HardState
    /// The applied index last written beside the state (`node.appliedIndex` is the last entry
    /// applied: the shell applies what a Ready commits before it advances the node).
    var appliedWritten: UInt64
    /// Proposals of this node's leadership by log index, with the term they were proposed in.
    var pending: [UInt64: (term: UInt64, ticket: AppendTicket)] = [:]
    /// While leading: the index of the first entry of this term. The leader takes entries
    /// once it has applied up to here, so its actors start from complete state.
    var leaderStartIndex: UInt64?
    /// Ticks since this node stopped leading with proposals still waiting for their outcome.
    var orphanedTicks = 0
    /// Ticks the group has been quiet.
    var quietTicks = 0
    /// When leadership goes back to the preferred leader.
    var rebalancing = LeadershipRebalancing()
    /// Reads waiting for ReadIndex to confirm this node's leadership.
    var reads = PendingReads()
    /// Listed among the driver's `ReadyCandidates`.
    fileprivate(set) var isCandidate = false

    init(partition: PartitionID, node: RaftNode, persistedLastIndex: UInt64) {
        self.partition = partition
        self.node = node
        persistedHardState = node.hardState
        self.persistedLastIndex = persistedLastIndex
        appliedWritten = node.appliedIndex
    }

    /// The node's Ready, if it has one.
    func takeReady() -> Ready? {
        inspect { $0.hasReady ? $0.ready() : nil }
    }

    /// Quiet: not ticked, nothing to do until a message, proposal or hint wakes it.
    var isQuiescent: Bool { inspect { $0.isQuiescent } }

    /// This node leads and has caught up with its own term.
    var servingHere: Bool {
        guard node.role == .leader, let start = leaderStartIndex else { return false }
        return inspect { $0.appliedIndex } >= start
    }

    /// What `body` reads of the node, read in place. Reading `node.x` directly, where `x` is
    /// computed in ParleyRaft, copies the whole node first (the class's property could change
    /// during the call, as far as the compiler can tell); an exclusive access cannot.
    func inspect<Value>(_ body: (inout RaftNode) -> Value) -> Value {
        body(&node)
    }

    /// One tick, and what the shell decides on it: proposals that outlived this node's
    /// leadership by three election timeouts without learning their outcome are returned to
    /// be failed (their entries may still commit), at once when `cutOff` (fewer than a
    /// majority of the replicas reachable: no outcome can be learnt until the network heals,
    /// and the caller had better retry elsewhere, its idempotency key making a committed
    /// entry's retry a replay); a leader that is not the partition's
    /// preferred leader hands leadership to it once it is caught up (as `rebalancing` paces
    /// it), so leaderships spread as placement intends, also after a restart.
    ///
    /// A quiet group (`RaftNode.isQuiescent`) is not ticked at all; a leader goes quiet only
    /// when no hand-over is due.
    func tick(preferred: UInt64, electionTicks: Int, cutOff: @autoclosure () -> Bool = false) -> [AppendTicket] {
        guard !isQuiescent else { return [] }
        // A leader owing its place to a caught-up preferred replica keeps ticking to hand over.
        node.tick(mayQuiesce: !handOver(to: preferred).caughtUp)
        var expired: [AppendTicket] = []
        if node.role != .leader, !pending.isEmpty {
            orphanedTicks += 1
            if orphanedTicks > 3 * electionTicks || cutOff() { expired = takePending() }
        } else {
            orphanedTicks = 0
        }
        // Again after the tick, which may have moved the role.
        let (leadsElsewhere, caughtUp) = handOver(to: preferred)
        let preferredLeads = preferred != 0 && inspect { $0.leader } == preferred
        if rebalancing.tick(leadsElsewhere: leadsElsewhere, preferredCaughtUp: caughtUp, preferredLeads: preferredLeads, electionTicks: electionTicks) {
            try? node.transferLeadership(to: preferred)
        }
        return expired
    }

    /// Whether this node leads where `preferred` (another replica) should, and whether
    /// `preferred` holds the whole log, so leadership can pass to it.
    private func handOver(to preferred: UInt64) -> (leadsElsewhere: Bool, caughtUp: Bool) {
        let leadsElsewhere = node.role == .leader && preferred != node.id && preferred != 0
        return (leadsElsewhere, leadsElsewhere && inspect { $0.replication(of: preferred)?.match == $0.lastIndex })
    }

    /// Takes every waiting proposal, for failing them when leadership moves on.
    func takePending() -> [AppendTicket] {
        defer { pending = [:] }
        return pending.values.map(\.ticket)
    }
}

/// The groups the driver checks for a Ready in its next round: those something happened to
/// (a message stepped, a tick, a proposal, a read) since their last check. Between ticks a
/// round looks at the few groups that are busy rather than at all of the node's.
struct ReadyCandidates {
    private var groups: [RaftGroup] = []

    /// Lists `group` (once).
    mutating func add(_ group: RaftGroup) {
        guard !group.isCandidate else { return }
        group.isCandidate = true
        groups.append(group)
    }

    /// Whether no group is listed.
    var isEmpty: Bool { groups.isEmpty }

    /// The listed groups, in the order listed; the list is emptied.
    mutating func take() -> [RaftGroup] {
        defer { groups = [] }
        for group in groups { group.isCandidate = false }
        return groups
    }
}

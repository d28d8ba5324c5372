import Dispatch
import Foundation
import Logging
import ParleyRaft
import ParleyStorage
import ServiceLifecycle
import Synchronization

/// The partition log of a cluster node: every partition this node replicates is a Raft group
/// (`ParleyRaft.RaftNode`) over the partition's replicas. One driver thread runs every group
/// of the node: it steps the messages that arrived, ticks, takes proposals, and then, for all
/// groups at once, persists their new entries and hard states in **one fsync'd write** (group
/// commit across partitions), hands their messages to one queue per peer (all partitions'
/// messages to a node travel together, heartbeats included), applies the committed entries
/// to the state family and settles the proposers' tickets.
///
/// Only a partition's leader takes entries, and only once it has applied everything up to
/// its own term's first entry, so the actors it activates decide on complete state. The
/// generation is the leader's Raft term: a proposer of an older term is refused
/// (`log_stale_generation`), and a deposed leader can never commit (term fencing). A node
/// that is not the leader refuses with `log_not_leader`, naming the leader when known.
public final class ReplicatedPartitionLog: NodePartitionLog, PartitionLeadership, PeerReceiver {
    /// Settings; every field has a default.
    public struct Configuration: Sendable {
        /// One Raft tick. Heartbeats every `heartbeatTicks`, elections after a random timeout
        /// in `[electionTicks, 2 × electionTicks)` ticks.
        public var tickInterval: Duration = .milliseconds(50)
        public var heartbeatTicks = 2
        public var electionTicks = 10
        /// Ticks a leader with nothing to do waits before it quiets its group (no heartbeats,
        /// no election timers until something happens; 0: never). Only with a transport whose
        /// failure detector finds peers down (`PeerTransport.isUp`, `peerGone`): a quiet group
        /// whose replica is down wakes. A node sets it (`ParleyNode`: 20 ticks).
        public var quiesceTicks = 0
        /// A quiet follower wakes after this many ticks all the same (600: 30 s at 50 ms).
        public var quietFollowerWakeTicks = 600
        /// How many entries a partition applies between writes of its applied index.
        public var appliedIndexInterval: UInt64 = 256
        /// How many of a partition's latest applied entries its log keeps after compaction
        /// (a follower that fell further behind is sent a snapshot); a log is compacted once
        /// it holds twice this many.
        public var retainedEntries: UInt64 = 10_000
        /// Ticks between checks for logs due for compaction.
        public var compactionCheckTicks = 100
        /// Snapshots stream in chunks of about this many bytes of state (one key and value at
        /// least), each answered before the next is sent.
        public var snapshotChunkBytes = 1 << 20
        /// How long a follower may take to answer one chunk before the transfer fails (Raft
        /// sends the snapshot again later).
        public var snapshotChunkTimeout: Duration = .seconds(10)
        /// Snapshots this node streams at once; Raft retries the others later.
        public var maxSnapshotTransfers = 4
        /// A follower refuses a snapshot whose state grows beyond this while it arrives.
        public var maxSnapshotBytes = 1 << 30
        /// Seeds the election timeouts' randomness.
        public var seed = UInt64.random(in: 1...UInt64.max)

        public init() {}
    }

    struct Proposal {
        let partition: PartitionID
        let generation: UInt64
        let payload: [UInt8]
        let ticket: AppendTicket
    }

    struct Inbox {
        var proposals: [Proposal] = []
        var messages: [(PartitionID, Message)] = []
        /// Ended snapshot transfers: partition, follower (Raft id), whether it took the snapshot.
        var snapshotReports: [(PartitionID, UInt64, Bool)] = []
        /// Reads waiting to be confirmed by ReadIndex.
        var reads: [(PartitionID, AppendTicket)] = []
        /// A state flush for compaction finished: each partition's log may be cut at its index.
        var flushedForCompaction: [PartitionID: UInt64] = [:]
        /// Peers whose process the transport found gone.
        var gone: [NodeID] = []
        /// Views of applied state asked for, taken at the end of the round.
        var views: [AppliedViewRequest] = []
        var closed = false

        var hasWork: Bool {
            !proposals.isEmpty || !messages.isEmpty || !snapshotReports.isEmpty || !reads.isEmpty || !flushedForCompaction.isEmpty
                || !gone.isEmpty || !views.isEmpty
        }

        /// Fails every proposal, read and view waiting here (the log is stopping).
        func failWaiting(_ error: ClusterError) {
            for proposal in proposals { proposal.ticket.complete(.failure(error)) }
            for (_, read) in reads { read.complete(.failure(error)) }
            for view in views { view.reply(.failure(error)) }
        }
        var driverSleeping = false
    }

    /// What every thread may read about a partition: who leads it, and whether this node
    /// takes entries for it now.
    public struct Leadership: Sendable, Equatable {
        public var term: UInt64 = 0
        /// The leader this node knows of, nil when none.
        public var leader: NodeID?
        /// This node leads the partition and has applied its term's first entry.
        public var servingHere = false
    }

    public let partitionCount: Int
    public let ownID: NodeID
    /// Each partition's replicas (first: preferred leader), as placement gives them.
    public let replicas: [[NodeID]]
    let configuration: Configuration
    let database: Database
    let families: LogFamilies
    let raftFamily: ColumnFamily
    let stateMachine: any PartitionStateMachine
    let logger: Logger
    let ids: ReplicaIDs
    let inbox = Mutex(Inbox())
    let wakeDriver = DispatchSemaphore(value: 0)
    let leaderships: Mutex<[Leadership]>
    let routeWatches = RouteWatches()
    let snapshotTransfers: SnapshotTransferQueue
    let compactionFlushes = CompactionFlushes()
    let snapshotAssembler: SnapshotAssembler
    /// The groups as recovered; the driver takes them when it starts and owns them after.
    let recoveredGroups: Mutex<[PartitionID: RaftGroup]?>
    let transport: any PeerTransport
    let metrics = LogMetrics()
    /// Raft messages dropped because their sender was held down (`receivePosted`).
    let droppedFromDownPeers = Atomic<Int>(0)
    /// Committed entries applied per group per round: a node back from a crash re-applies up
    /// to `appliedIndexInterval` entries of every group and catches up on what it missed, and
    /// in one round that held its driver (its votes, its hints) for seconds.
    static let committedEntriesPerReady = 64

    /// Opens the replicas of `ownID` (the partitions `placement` gives it) from `database`,
    /// which must have been opened with `requiredFamilies`.
    public init(
        database: Database, placement: Placement, ownID: NodeID, stateMachine: any PartitionStateMachine,
        transport: any PeerTransport, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "parley.raft")
    ) throws(ClusterError) {
        partitionCount = placement.membership.partitionCount
        self.ownID = ownID
        self.configuration = configuration
        self.database = database
        self.stateMachine = stateMachine
        self.transport = transport
        self.logger = logger
        let ids = ReplicaIDs(placement.membership)
        self.ids = ids
        replicas = (0..<partitionCount).map { placement.replicas(of: PartitionID(UInt16($0))) }
        var groups: [PartitionID: RaftGroup] = [:]
        do {
            let families = try LogFamilies(database)
            let raftFamily = try database.family(ReplicaLayout.family)
            self.families = families
            self.raftFamily = raftFamily
            try LogLayout.checkPartitionCount(partitionCount, database: database, meta: families.meta)
            for partition in placement.partitions(replicatedOn: ownID) {
                let voters = placement.replicas(of: partition).map { ids.raftID(of: $0) }
                let (persisted, lastIndex) = try ReplicaLayout.load(partition, database: database, raft: raftFamily, state: families.state)
                var raftConfiguration = RaftConfig(
                    id: ids.raftID(of: ownID), voters: voters, electionTick: configuration.electionTicks,
                    heartbeatTick: configuration.heartbeatTicks, seed: configuration.seed &+ UInt64(partition.rawValue))
                raftConfiguration.maxEntriesPerMessage = 512
                raftConfiguration.maxCommittedEntriesPerReady = Self.committedEntriesPerReady
                raftConfiguration.quiesceTicks = configuration.quiesceTicks
                let node = try RaftNode(config: raftConfiguration, restoring: persisted)
                groups[partition] = RaftGroup(partition: partition, node: node, persistedLastIndex: lastIndex)
            }
        } catch let error as ClusterError {
            throw error
        } catch let error as StorageError {
            throw ClusterError(.storageFailure, error.description)
        } catch {
            throw ClusterError(.storageFailure, "\(error)")
        }
        recoveredGroups = Mutex(groups)
        snapshotTransfers = SnapshotTransferQueue(limit: configuration.maxSnapshotTransfers)
        snapshotAssembler = SnapshotAssembler(maxBytes: configuration.maxSnapshotBytes)
        leaderships = Mutex(Array(repeating: Leadership(), count: partitionCount))
    }

    /// The column families `Database.open` must be given for this log.
    public static var requiredFamilies: [String] { LogLayout.allFamilies + [ReplicaLayout.family] }

    /// The column family that state machines' writes land in, for reading applied state.
    public var stateColumnFamily: ColumnFamily { families.state }

    public func appliedView(of partitions: [PartitionID]) async throws(ClusterError) -> AppliedView {
        try await awaitAppliedView(of: partitions) { request in
            let wake: Bool? = inbox.withLock { inbox in
                guard !inbox.closed else { return nil }
                inbox.views.append(request)
                defer { inbox.driverSleeping = false }
                return inbox.driverSleeping
            }
            if wake == true { wakeDriver.signal() }
            return wake != nil
        }
    }

    /// Who leads `partition` as this node knows it.
    public func leadership(of partition: PartitionID) -> Leadership {
        leaderships.withLock { $0[Int(partition.rawValue)] }
    }

    /// Served here while this node leads and has caught up; else the leader this node knows
    /// (as a replica, from Raft; otherwise from the last refusal that named one).
    public func route(_ partition: PartitionID) -> PartitionRoute {
        route(of: leadership(of: partition))
    }

    func route(of view: Leadership) -> PartitionRoute {
        if view.servingHere { return .here }
        return .elsewhere(view.leader == ownID ? nil : view.leader)
    }

    /// Remembers `leader` as the leader of a partition this node does not replicate (learnt
    /// from a refusal that named it), so later calls go there directly.
    public func noteLeader(_ leader: NodeID, of partition: PartitionID) {
        guard Int(partition.rawValue) < partitionCount, !replicas[Int(partition.rawValue)].contains(ownID) else { return }
        updateLeadership(of: partition) { $0.leader = leader }
    }

    public func forgetLeader(_ leader: NodeID, of partition: PartitionID) {
        guard Int(partition.rawValue) < partitionCount, !replicas[Int(partition.rawValue)].contains(ownID) else { return }
        updateLeadership(of: partition) { if $0.leader == leader { $0.leader = nil } }
    }

    /// Changes what this node knows of `partition`'s leadership; callers waiting for its route
    /// to change are woken when it did.
    func updateLeadership(of partition: PartitionID, _ change: (inout Leadership) -> Void) {
        let (before, after) = leaderships.withLock { views -> (Leadership, Leadership) in
            let before = views[Int(partition.rawValue)]
            change(&views[Int(partition.rawValue)])
            return (before, views[Int(partition.rawValue)])
        }
        let route = route(of: after)
        if route != self.route(of: before) { routeWatches.routeChanged(partition, to: route) }
        if after.leader != before.leader, after.term >= before.term {
            // Rare (failovers, transfers, a node's start) and what an operator reads first after one.
            logger.info(
                "partition leader changed",
                metadata: ["partition": "\(partition.rawValue)", "term": "\(after.term)", "leader": "\(after.leader.map(\.rawValue) ?? "none")"])
        }
    }

    public func watchRouteChange(of partition: PartitionID, from route: PartitionRoute, wake: @escaping @Sendable () -> Void) -> RouteWatch {
        routeWatches.watch(partition, from: route, current: { self.route(partition) }, wake: wake)
    }

    public func endWatch(_ watch: RouteWatch) {
        routeWatches.end(watch)
    }

    public func generation(of partition: PartitionID) -> UInt64 {
        leaderships.withLock { leaderships in
            let view = leaderships[Int(partition.rawValue)]
            return view.servingHere ? view.term : 0
        }
    }

    public func append(_ payload: [UInt8], to partition: PartitionID, generation: UInt64) -> AppendTicket {
        let view: Leadership
        do throws(ClusterError) {
            view = try servingView(of: partition)
        } catch {
            return .failed(error)
        }
        guard view.term == generation else {
            return .failed(ClusterError(.stale, "partition \(partition) is at term \(view.term), not \(generation)"))
        }
        let ticket = AppendTicket()
        let queued = toDriver(unlessClosed: true) {
            $0.proposals.append(Proposal(partition: partition, generation: generation, payload: payload, ticket: ticket))
        }
        if !queued { ticket.complete(.failure(ClusterError(.shuttingDown, "the node is shutting down"))) }
        return ticket
    }

    /// Returns once a quorum of `partition`'s replicas confirmed, after this call began, that
    /// this node leads it (Raft's ReadIndex: one heartbeat round, shared by every read of a
    /// driver round), and this node applied everything committed when the call began. A read
    /// of the applied state after this sees every write acknowledged before the call: a leader
    /// cut off from its quorum refuses (`log_not_leader`) instead of answering stale data.
    public func confirmLeadership(of partition: PartitionID) async throws(ClusterError) {
        _ = try servingView(of: partition)
        let ticket = AppendTicket()
        guard toDriver(unlessClosed: true, { $0.reads.append((partition, ticket)) }) else {
            throw ClusterError(.shuttingDown, "the node is shutting down")
        }
        _ = try await ticket.result()
    }

    /// `partition`'s view when this node serves it; else why not (`log_unknown_partition`,
    /// `log_not_leader`).
    private func servingView(of partition: PartitionID) throws(ClusterError) -> Leadership {
        guard Int(partition.rawValue) < partitionCount else {
            throw ClusterError(.unknownPartition, "no partition \(partition) of \(partitionCount)")
        }
        let view = leadership(of: partition)
        guard view.servingHere else { throw notLeader(partition, view) }
        return view
    }

    func notLeader(_ partition: PartitionID, _ view: Leadership) -> ClusterError {
        let leader = view.leader.map { "; its leader is \($0)" } ?? "; it has no leader right now"
        return ClusterError(.notLeader, "this node does not lead partition \(partition)\(leader)")
    }

    /// Raft messages from a peer: queued for the driver. Answered at once and empty: Raft's
    /// own messages carry every answer. A snapshot chunk is answered with what became of it.
    public func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
        if kind == .raftSnapshot { return receiveSnapshotChunk(body, from: node) }
        receivePosted(kind, body, from: node)
        return []
    }

    /// Raft messages a peer posted, for the driver (on the transport's I/O thread). Those of a
    /// peer the failure detector holds down are dropped: they were sent before it went (read
    /// from its connection after it closed), and a leader's late heartbeat would undo the
    /// hint that it is gone, leaving its followers to wait out an election timeout. Raft
    /// resends what matters once the peer is greeted again (which a message from it hastens).
    public func receivePosted(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) {
        guard kind == .raft else { return }
        guard transport.isUp(node) else {
            droppedFromDownPeers.add(1, ordering: .relaxed)
            return
        }
        let batch: [(group: UInt32, message: Message)]
        do {
            batch = try RaftCodec.decode(body)
        } catch {
            logger.warning("unreadable Raft messages from a peer", metadata: ["peer": "\(node)", "error": "\(error)"])
            return
        }
        let sender = ids.raftID(of: node)
        toDriver { inbox in
            for (group, message) in batch where group < partitionCount && message.from == sender {
                inbox.messages.append((PartitionID(UInt16(group)), message))
            }
        }
    }

    /// A peer's process is gone: the driver hints the groups it led (`leaderGone`).
    public func peerGone(_ node: NodeID) {
        toDriver { $0.gone.append(node) }
    }

    /// Drives every group until shutdown, and streams snapshots to followers meanwhile.
    public func run() async throws {
        logger.info("replicated partition log running", metadata: ["replicas": "\(recoveredGroups.withLock { $0?.count ?? 0 })"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.snapshotStreamingLoop() }
                    group.addTask { await self.compactionFlushLoop() }
                    await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                        let thread = Thread {
                            self.driveUntilClosed()
                            finished.resume()
                        }
                        thread.name = "parley.raft.driver"
                        thread.start()
                    }
                    snapshotTransfers.close()
                    compactionFlushes.close()
                }
            } onGracefulShutdown: {
                self.close()
            }
        } onCancel: {
            self.close()
        }
        logger.info("replicated partition log stopped")
    }

    /// Stops taking entries; the driver finishes its round, flushes the state and ends.
    public func close() {
        toDriver { $0.closed = true }
    }

    /// Changes the driver's inbox and wakes the driver if it sleeps. With `unlessClosed`,
    /// changes nothing once the log closed, and answers false.
    @discardableResult
    func toDriver(unlessClosed: Bool = false, _ change: (inout Inbox) -> Void) -> Bool {
        let (taken, wake) = inbox.withLock { inbox -> (Bool, Bool) in
            if unlessClosed, inbox.closed { return (false, false) }
            change(&inbox)
            defer { inbox.driverSleeping = false }
            return (true, inbox.driverSleeping)
        }
        if wake { wakeDriver.signal() }
        return taken
    }
}

/// Raft's numeric node ids for a cluster's members: their place in id order, from 1. Every
/// node derives the same from the same (fingerprinted) membership.
struct ReplicaIDs: Sendable {
    private let byNode: [NodeID: UInt64]
    private let nodes: [NodeID]

    init(_ membership: ClusterMembership) {
        nodes = membership.members.map(\.id).sorted()
        byNode = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1, UInt64($0 + 1)) })
    }

    func raftID(of node: NodeID) -> UInt64 { byNode[node] ?? 0 }

    func node(of raftID: UInt64) -> NodeID? {
        raftID >= 1 && raftID <= UInt64(nodes.count) ? nodes[Int(raftID - 1)] : nil
    }

    /// Every member, in id order.
    var allNodes: [NodeID] { nodes }
}

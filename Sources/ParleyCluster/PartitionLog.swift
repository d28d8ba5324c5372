import ParleyStorage
import ServiceLifecycle

/// Where an appended entry landed: its partition, its index in that partition's log, and the
/// generation it was proposed under.
public struct LogPosition: Hashable, Sendable {
    public let partition: PartitionID
    public let index: UInt64
    public let generation: UInt64
}

/// One entry of a partition's log. `payload` is opaque to the log; the partition's state
/// machine gives it meaning.
public struct LogEntry: Sendable, Equatable {
    public let partition: PartitionID
    public let index: UInt64
    public let generation: UInt64
    public let payload: [UInt8]

    public init(partition: PartitionID, index: UInt64, generation: UInt64, payload: [UInt8]) {
        self.partition = partition
        self.index = index
        self.generation = generation
        self.payload = payload
    }
}

/// The writes that apply one entry to its partition's state. The log owns the column family;
/// a state machine only names keys and values.
public struct StateWrites: Sendable {
    public private(set) var batch: WriteBatch
    let family: ColumnFamily

    init(family: ColumnFamily, batch: WriteBatch = WriteBatch()) {
        self.batch = batch
        self.family = family
    }

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) { batch.put(key, value, in: family) }
    public mutating func put(_ key: [UInt8], _ value: ArraySlice<UInt8>) { batch.put(key, value, in: family) }

    public mutating func delete(_ key: [UInt8]) { batch.delete(key, in: family) }

    /// Deletes every key in `[from, to)`.
    public mutating func deleteRange(from: [UInt8], to: [UInt8]) { batch.deleteRange(from: from, to: to, in: family) }

    var mark: WriteBatch.Mark { batch.mark }

    mutating func rollback(to mark: WriteBatch.Mark) { batch.rollback(to: mark) }

    mutating func reserveCapacity(bytes: Int) { batch.reserveCapacity(bytes: bytes) }
}

/// Applies committed entries to a partition's state, deterministically: the same entries in
/// the same order give the same writes on every replica.
public protocol PartitionStateMachine: Sendable {
    /// Adds to `writes` what applying `entry` changes. Throwing rejects the entry: it is not
    /// appended and nothing of it is written.
    func apply(_ entry: LogEntry, to writes: inout StateWrites) throws
}

/// The one error type of ParleyCluster.
public struct ClusterError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The partition's generation (the leader term, once replicated) moved on since the
        /// proposer activated: it must reload its state and decide again.
        case stale = "log_stale_generation"
        /// This node does not lead the entry's partition (the message names the leader when
        /// one is known): the caller goes to the leader.
        case notLeader = "log_not_leader"
        /// The state machine refused the entry.
        case rejected = "log_entry_rejected"
        /// The write did not become durable.
        case storageFailure = "log_storage_failure"
        /// The log is draining for shutdown and takes no new entries.
        case shuttingDown = "log_shutting_down"
        /// No such partition.
        case unknownPartition = "log_unknown_partition"
        /// The database was laid out for a different partition count.
        case layoutMismatch = "log_layout_mismatch"
        /// A cluster membership that cannot be used (unknown node, duplicate, bad address…).
        case invalidMembership = "cluster_invalid_membership"
        /// A peer's cluster configuration differs from this node's.
        case membershipMismatch = "cluster_membership_mismatch"
        /// A peer could not be reached, or did not answer in time.
        case peerUnavailable = "peer_unavailable"
        /// A peer's message could not be read (a bug, or nodes of incompatible versions).
        case peerProtocol = "peer_protocol_error"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The seam between entity actors and durability. An entry is acknowledged only once it is
/// durable and applied to its partition's state. `LocalPartitionLog` implements it for a single
/// node; a Raft-replicated log implements the same interface, with the Raft term as generation.
public protocol PartitionLog: Sendable {
    var partitionCount: Int { get }

    /// The generation an entity activated now must propose under.
    func generation(of partition: PartitionID) -> UInt64

    /// Queues `payload` for `partition` and returns at once. Entries queued by one caller are
    /// appended in the order of the calls, which is why this is synchronous: an actor calls
    /// it without suspending between deciding and queueing.
    func append(_ payload: [UInt8], to partition: PartitionID, generation: UInt64) -> AppendTicket
}

/// A partition log a node runs as one of its services: the single-node `LocalPartitionLog`,
/// or the Raft-replicated `ReplicatedPartitionLog` of a cluster.
public protocol NodePartitionLog: PartitionLog, Service {
    /// The column family that state machines' writes land in, for reading applied state.
    var stateColumnFamily: ColumnFamily { get }
    /// Stops taking entries; `run` returns once what is under way is settled.
    func close()
    /// A consistent view of the applied state of `partitions` (those this node holds),
    /// taken by the applying thread between two writes.
    func appliedView(of partitions: [PartitionID]) async throws(ClusterError) -> AppliedView
}

extension NodePartitionLog {
    /// Waits for `request`'s answer, having handed it to the applying thread with `enqueue`
    /// (false: the log is closed).
    func awaitAppliedView(
        of partitions: [PartitionID], enqueue: (AppliedViewRequest) -> Bool
    ) async throws(ClusterError) -> AppliedView {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppliedView, ClusterError>, Never>) in
            let request = AppliedViewRequest(partitions: partitions) { continuation.resume(returning: $0) }
            if !enqueue(request) { request.reply(.failure(ClusterError(.shuttingDown, "the node is shutting down"))) }
        }
        return try result.get()
    }
}

/// Where a partition's entities are served right now.
public enum PartitionRoute: Sendable, Equatable {
    /// On this node: it leads the partition and takes its entries.
    case here
    /// On another node: the leader when known (nil while there is none, or this node does
    /// not replicate the partition and has no hint).
    case elsewhere(NodeID?)
}

/// Tells the runtime, at every call, which node serves a partition. A replicated log answers
/// from Raft's leadership, which moves on failover; static placement never moves.
public protocol PartitionLeadership: Sendable {
    func route(_ partition: PartitionID) -> PartitionRoute
    /// A node answered that `leader` leads `partition`; kept as a hint where this node has no
    /// view of its own (it does not replicate the partition).
    func noteLeader(_ leader: NodeID, of partition: PartitionID)
    /// `leader`, the hint for `partition`, did not answer: forget it (where it is a hint).
    func forgetLeader(_ leader: NodeID, of partition: PartitionID)
    /// Runs `wake` once `route(partition)` differs from `route` (at once if it does already),
    /// unless the watch is ended first (`endWatch`).
    func watchRouteChange(of partition: PartitionID, from route: PartitionRoute, wake: @escaping @Sendable () -> Void) -> RouteWatch
    /// Ends a watch; its `wake` does not run after this returns (unless it is running).
    func endWatch(_ watch: RouteWatch)
    /// Returns once a quorum confirmed that this node still leads `partition` (after the call
    /// began) and it applied what was committed then; a read after it is linearizable.
    func confirmLeadership(of partition: PartitionID) async throws(ClusterError)
}

import Foundation
import ParleyStorage
import Synchronization
import Testing

@testable import ParleyCluster

/// Nodes of one cluster in this process, each with its own RocksDB in a temp dir and a
/// `ReplicatedPartitionLog`, talking over `InProcessPeerTransport`. A node can be stopped
/// (cut off, its log drained, its database closed) and started again from its directory.
final class ReplicaCluster: Sendable {
    struct Node {
        let directory: String
        var database: Database?
        var log: ReplicatedPartitionLog?
        var stopped: RunFinished?
    }

    let placement: Placement
    let network = InProcessPeerTransport()
    let configuration: ReplicatedPartitionLog.Configuration
    private let nodes: Mutex<[NodeID: Node]>
    private let starts: AsyncStream<(ReplicatedPartitionLog, RunFinished)>.Continuation

    init(placement: Placement, root: String, configuration: ReplicatedPartitionLog.Configuration,
         starts: AsyncStream<(ReplicatedPartitionLog, RunFinished)>.Continuation) {
        self.placement = placement
        self.configuration = configuration
        self.starts = starts
        nodes = Mutex(Dictionary(uniqueKeysWithValues: placement.membership.members.map { ($0.id, Node(directory: root + "/" + $0.id.rawValue)) }))
    }

    var ids: [NodeID] { placement.membership.members.map(\.id).sorted() }

    /// Opens `node`'s database and log and starts its driver.
    func start(_ node: NodeID) throws {
        let directory = nodes.withLock { $0[node]!.directory }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let database = try LocalPartitionLog.openDatabase(at: directory + "/db")
        let (inbox, transport) = network.join(node)
        let log = try ReplicatedPartitionLog(
            database: database, placement: placement, ownID: node, stateMachine: RecordingStateMachine(), transport: transport,
            configuration: configuration)
        inbox.set(log)
        network.setReachable(node, true)
        let finished = RunFinished()
        nodes.withLock { $0[node]!.database = database; $0[node]!.log = log; $0[node]!.stopped = finished }
        starts.yield((log, finished))
    }

    /// Cuts `node` off, drains its log and closes its database (`gracefully`: drains first,
    /// while it can still hand its leaderships over, then cuts it off).
    func stop(_ node: NodeID, gracefully: Bool = false) async {
        if !gracefully { network.setReachable(node, false) }
        defer { network.setReachable(node, false) }
        guard let (log, finished, database) = nodes.withLock({ nodes -> (ReplicatedPartitionLog, RunFinished, Database)? in
            guard let entry = nodes[node], let log = entry.log, let finished = entry.stopped, let database = entry.database else { return nil }
            nodes[node]!.log = nil
            nodes[node]!.database = nil
            return (log, finished, database)
        }) else { return }
        log.close()
        await finished.wait()
        database.close()
    }

    func log(_ node: NodeID) -> ReplicatedPartitionLog? { nodes.withLock { $0[node]?.log } }

    func database(_ node: NodeID) -> Database? { nodes.withLock { $0[node]?.database } }

    /// The running node that serves `partition` (leads it and has caught up), once one does.
    /// While the partition's preferred leader runs, that one: leadership moves there (the
    /// leaders' rebalancing), so a test that writes through it is not interrupted by a move.
    func servingNode(of partition: PartitionID, within limit: Duration = .seconds(10)) async throws -> NodeID {
        var found: NodeID?
        let preferred = placement.leader(of: partition)
        try await eventually("a serving leader of \(partition)", within: limit) {
            found = ids.first { log($0)?.leadership(of: partition).servingHere == true }
            return found != nil && (found == preferred || log(preferred) == nil)
        }
        return found!
    }

    /// Appends `bytes` to `partition` through whichever node serves it, the way an entity call
    /// does through a failover: a refusal because leadership moved (`notLeader`, `stale`) finds
    /// the serving node again and retries, within `limit`. On a starved machine a driver can miss
    /// heartbeats and an election start mid-test; the entry is still acknowledged exactly once
    /// as far as the caller knows, which is what the tests check.
    func appendThroughServingNode(_ bytes: [UInt8], to partition: PartitionID, within limit: Duration = .seconds(10)) async throws -> LogPosition {
        let deadline = ContinuousClock.now + limit
        while true {
            let node = try await servingNode(of: partition, within: limit)
            guard let log = log(node) else { continue }
            let outcome: Result<LogPosition, ClusterError>
            do {
                outcome = .success(try await log.append(bytes, to: partition, generation: log.generation(of: partition)).result())
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let position):
                return position
            case .failure(let error) where (error.code == .notLeader || error.code == .stale) && ContinuousClock.now < deadline:
                try await Task.sleep(for: .milliseconds(20))
            case .failure(let error):
                throw error
            }
        }
    }

    /// What `node` applied for entry `index` of `partition`.
    func applied(_ node: NodeID, _ partition: PartitionID, _ index: UInt64) throws -> [UInt8]? {
        guard let database = database(node) else { return nil }
        return try database.get(RecordingStateMachine.key(partition, index), in: try database.family("state"))
    }
}

/// Signals once a node's log stopped running.
final class RunFinished: Sendable {
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func finish() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}

/// Runs `body` with an in-process cluster of `nodeCount` nodes, all started; stops them all after.
func withReplicaCluster<R: Sendable>(
    nodes nodeCount: Int = 3, partitions: Int = 4, configure: (inout ReplicatedPartitionLog.Configuration) -> Void = { _ in },
    _ body: @Sendable (ReplicaCluster) async throws -> R
) async throws -> R {
    let root = NSTemporaryDirectory() + "parley-raft-test-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: root) }
    let members = (1...nodeCount).map { index in
        ClusterMember(
            id: NodeID("node-\(index)")!, peerAddress: HostPort("127.0.0.1:\(17_000 + index)")!,
            clientAddress: HostPort("127.0.0.1:\(18_000 + index)")!)
    }
    let placement = Placement(try ClusterMembership(members: members, partitionCount: partitions, replicationFactor: 3))
    var configuration = ReplicatedPartitionLog.Configuration()
    configuration.tickInterval = .milliseconds(40)
    configuration.seed = 42
    configure(&configuration)
    let (starts, startContinuation) = AsyncStream.makeStream(of: (ReplicatedPartitionLog, RunFinished).self)
    let cluster = ReplicaCluster(placement: placement, root: root, configuration: configuration, starts: startContinuation)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            await withDiscardingTaskGroup { runs in
                for await (log, finished) in starts {
                    runs.addTask {
                        try? await log.run()
                        finished.finish()
                    }
                }
            }
        }
        let outcome: Result<R, any Error>
        do {
            for node in cluster.ids { try cluster.start(node) }
            outcome = .success(try await body(cluster))
        } catch {
            outcome = .failure(error)
        }
        for node in cluster.ids { await cluster.stop(node) }
        startContinuation.finish()
        try await group.waitForAll()
        return try outcome.get()
    }
}

/// Polls `condition` every 10 ms until it holds; fails the test after `limit`.
func eventually(_ what: String, within limit: Duration = .seconds(10), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

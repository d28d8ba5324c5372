import Foundation
import Logging
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Testing

@testable import ParleyRuntime

/// Three runtimes in one process, each with its own database and log, connected by the
/// in-process peer transport: the same forwarding and fan-out code as a real cluster, without
/// sockets.
final class InProcessCluster: Sendable {
    struct Node: Sendable {
        let id: NodeID
        let runtime: NodeRuntime
        let hub: LiveHub
        let relay: LiveRelay
        let log: any NodePartitionLog
        let database: Database
        let outbox: OutboxRelay
        let timers: TimerService
        let board: RoutingBoardService
    }

    let nodes: [Node]
    let network = InProcessPeerTransport()
    let placement: Placement
    let directory = NSTemporaryDirectory() + "parley-cluster-test-" + UUID().uuidString

    /// - Parameter replicated: every partition a Raft group over the three nodes (the
    ///   cluster of a real deployment), rather than each served by its first node alone.
    ///   - kinds: the entity kinds every node runs (one table for the logs and the runtimes).
    init(lifetime: Duration = .seconds(5), replicated: Bool = false, kinds: EntityKinds = .standard) throws {
        let members = (1...3).map { index in
            ClusterMember(
                id: NodeID("node-\(index)")!, peerAddress: HostPort(host: "127.0.0.1", port: 7_000 + index),
                clientAddress: HostPort(host: "127.0.0.1", port: 8_000 + index))
        }
        placement = Placement(try ClusterMembership(members: members, partitionCount: 16, replicationFactor: 3))
        var nodes: [Node] = []
        for member in members {
            let path = directory + "/" + member.id.rawValue
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let database = try LocalPartitionLog.openDatabase(at: path + "/db", stateInsertHints: NodeRuntime.stateInsertHints)
            let (inbox, transport) = network.join(member.id)
            var configuration = RuntimeConfiguration()
            configuration.kinds = kinds
            let log: any NodePartitionLog
            if replicated {
                var raft = ReplicatedPartitionLog.Configuration()
                raft.tickInterval = .milliseconds(50)
                let replicatedLog = try ReplicatedPartitionLog(
                    database: database, placement: placement, ownID: member.id, stateMachine: EntityStateApplier(kinds: kinds), transport: transport,
                    configuration: raft)
                log = replicatedLog
                configuration.servedPartitions = ServedPartitions(placement: placement, node: member.id, leadership: replicatedLog)
            } else {
                log = try LocalPartitionLog(database: database, partitionCount: 16, stateMachine: EntityStateApplier(kinds: kinds))
                configuration.servedPartitions = ServedPartitions(placement: placement, node: member.id)
            }
            // Elections on a machine busy with every other test can take a few seconds.
            configuration.forwardTimeout = replicated ? .seconds(15) : .seconds(2)
            var relayConfiguration = LiveRelay.Configuration()
            relayConfiguration.lifetime = lifetime
            relayConfiguration.renewal = lifetime / 5
            let hub = LiveHub()
            let logger = Logger(label: "cluster-test.\(member.id)")
            let relay = LiveRelay(
                hub: hub, transport: transport, served: configuration.servedPartitions, partitioner: Partitioner(partitionCount: 16),
                configuration: relayConfiguration, logger: logger)
            let runtime = NodeRuntime(
                database: database, stateFamily: log.stateColumnFamily, log: log, events: relay, staffEvents: relay, configuration: configuration,
                liveSessions: hub, peers: transport, relay: relay, logger: logger)
            if let replicatedLog = log as? ReplicatedPartitionLog {
                inbox.set(PeerRouter(raft: replicatedLog, others: runtime))
            } else {
                inbox.set(runtime)
            }
            let outbox = OutboxRelay(runtime: runtime, retryDelay: .milliseconds(50), logger: logger)
            runtime.onOutboxWritten { outbox.nudge() }
            // No polling to lean on: a timer fires because it was set here or because this
            // node took its partition's leadership (`LeadershipWatches`), well within the tests'
            // waits, never because a rescan came round.
            let timers = TimerService(runtime: runtime, rescanInterval: .seconds(60), logger: logger)
            let board = RoutingBoardService(runtime: runtime, logger: logger)
            nodes.append(
                Node(id: member.id, runtime: runtime, hub: hub, relay: relay, log: log, database: database, outbox: outbox, timers: timers, board: board))
        }
        self.nodes = nodes
    }

    /// Runs every node's log, relay and outbox around `body`, then stops them.
    func run<R: Sendable>(_ body: @Sendable (InProcessCluster) async throws -> R) async throws -> R {
        defer {
            for node in nodes { node.database.close() }
            try? FileManager.default.removeItem(atPath: directory)
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask { try await node.log.run() }
                group.addTask { try await node.relay.run() }
                group.addTask { try await node.outbox.run() }
                group.addTask { try await node.timers.run() }
                group.addTask { try await node.board.run() }
            }
            do {
                let result = try await body(self)
                group.cancelAll()
                for node in nodes { node.log.close() }
                while (try? await group.next()) != nil {}
                return result
            } catch {
                group.cancelAll()
                for node in nodes { node.log.close() }
                while (try? await group.next()) != nil {}
                throw error
            }
        }
    }

    func node(_ index: Int) -> Node { nodes[index - 1] }

    /// The node (1-based) serving `entity`.
    func servingIndex(of entity: EntityID) -> Int {
        let leader = placement.leader(of: Partitioner(partitionCount: 16).partition(for: entity.description))
        return nodes.firstIndex { $0.id == leader }! + 1
    }

    /// A staff id whose account node `index` serves.
    func staffServed(by index: Int, prefix: String) -> StaffID {
        (0..<10_000).lazy.map { StaffID(unchecked: "\(prefix)\($0)") }.first { servingIndex(of: EntityID(kind: .staff, key: $0.rawValue)) == index }!
    }
}

/// Collects what a live subscription receives until `done` holds or `timeout` passes.
func collect(_ subscription: LiveHub.Subscription, timeout: Duration = .seconds(5), until done: @escaping @Sendable ([LiveItem]) -> Bool) async -> [LiveItem] {
    await withTaskGroup(of: [LiveItem]?.self) { group in
        group.addTask {
            var items: [LiveItem] = []
            try? await subscription.forEachBatch { batch in
                items += batch
                if done(items) { throw CancellationError() }
            }
            return items
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        var result: [LiveItem] = []
        for await items in group {
            if let items { result = items }
            group.cancelAll()
            break
        }
        return result
    }
}

extension LiveItem {
    var eventSeqs: [UInt64] {
        if case let .events(batch, _) = self { return batch.entries.map(\.eventSeq) }
        return []
    }

    var unreadRooms: Int? {
        if case let .staffUpdated(unread, _, _, _) = self { return unread }
        return nil
    }
}

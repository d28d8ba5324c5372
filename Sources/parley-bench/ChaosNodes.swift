import Foundation
import ParleyCluster
import ParleyTestKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A cluster file as `parley serve --config` reads it: the nodes, the partition count and
/// the replication factor, with the placement every node computes from them.
struct ChaosClusterFile: Sendable {
    struct Node: Sendable {
        let id: String
        /// `http://host:port` of its client API.
        let clientURL: String
        /// Its peer address in the file (the proxy's listener, when a proxy runs).
        let peer: HostPort
    }

    let path: String
    let nodes: [Node]
    let partitions: Int
    let placement: Placement

    init(path: String) throws {
        self.path = path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let entries = object["nodes"] as? [[String: Any]]
        else { throw BenchError("\(path): no \"nodes\" list") }
        partitions = object["partitions"] as? Int ?? 64
        let factor = object["replication_factor"] as? Int ?? 3
        var members: [ClusterMember] = []
        var nodes: [Node] = []
        for entry in entries {
            guard let id = entry["id"] as? String, let nodeID = NodeID(id), let peer = (entry["peer"] as? String).flatMap(HostPort.init),
                let client = (entry["client"] as? String).flatMap(HostPort.init)
            else { throw BenchError("\(path): a node entry needs id, peer and client: \(entry)") }
            members.append(ClusterMember(id: nodeID, peerAddress: peer, clientAddress: client))
            nodes.append(Node(id: id, clientURL: "http://\(client)", peer: peer))
        }
        self.nodes = nodes
        do {
            placement = Placement(try ClusterMembership(members: members, partitionCount: partitions, replicationFactor: factor))
        } catch {
            throw BenchError("\(path): \(error)")
        }
    }

    /// The partition of room `id`.
    func partition(ofRoom id: String) -> Int { roomPartition(id, of: partitions) }

    /// The node ids holding a replica of `partition`.
    func replicas(of partition: Int) -> [String] {
        placement.replicas(of: PartitionID(UInt16(partition))).map(\.rawValue)
    }
}

/// One started `parley` process (one incarnation of a node).
final class ChaosProcess: @unchecked Sendable {
    // Safe: `process` is configured before `run()` and afterwards only used through its own
    // thread-safe calls (isRunning, processIdentifier); the paths are immutable.
    private let process = Process()
    let stdoutPath: String
    let stderrPath: String

    /// - Parameter account: run as this ordinary user (uid, gid) through `setpriv`, which
    ///   execs the node in place (the pid is the node's).
    init(
        binary: String, arguments: [String], environment: [String: String], stdoutPath: String, stderrPath: String,
        account: (uid: uid_t, gid: gid_t)? = nil
    ) throws {
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if let account {
            let command = UnprivilegedLaunch.command(binary: binary, arguments: arguments, uid: account.uid, gid: account.gid)
            process.executableURL = URL(fileURLWithPath: command.executable)
            process.arguments = command.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    /// Not yet reaped: its pid is still ours, so signalling it cannot hit another process.
    var isRunning: Bool { process.isRunning }

    /// Sends `signal` to this process only (by its pid), if it still runs.
    @discardableResult
    func send(_ signal: Int32) -> Bool {
        guard process.isRunning else { return false }
        return kill(process.processIdentifier, signal) == 0
    }

    /// The client URL it printed ("parley listening on http://HOST:PORT"), if it did yet.
    var listeningURL: String? {
        guard let text = try? String(contentsOfFile: stdoutPath, encoding: .utf8) else { return nil }
        let prefix = "parley listening on "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// The last `count` lines of its standard error.
    func stderrTail(_ count: Int) -> String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(count).joined(separator: "\n")
    }
}

/// The five nodes as child processes: started, signalled and restarted only through here,
/// each with its own data directory under the run directory. Every pid started is written
/// to `<run dir>/pids` (one a line) so `scripts/chaos` can clean up after a crash of this
/// process.
final class ChaosNodes: Sendable {
    let file: ChaosClusterFile
    let binary: String
    let runDirectory: String
    let adminToken: String
    private let current = Mutex<[String: ChaosProcess]>([:])
    private let incarnations = Mutex<[String: Int]>([:])
    private let stopped = Mutex<Set<String>>([])

    /// The ordinary user the nodes run as (nil: as this process's user).
    let account: (uid: uid_t, gid: gid_t)?
    /// Where each node's peer server really listens, behind the proxy (nil: no proxy; the
    /// node listens at its peer address in the file).
    let realPeerPorts: [String: Int]?

    /// - Parameter user: run the nodes as this ordinary user (needs root: `setpriv` changes
    ///   the ids); each node's data directory is handed to it.
    init(file: ChaosClusterFile, binary: String, runDirectory: String, adminToken: String, user: String? = nil, realPeerPorts: [String: Int]? = nil) throws {
        self.file = file
        self.realPeerPorts = realPeerPorts
        self.binary = binary
        self.runDirectory = runDirectory
        self.adminToken = adminToken
        if let user {
            guard let entry = getpwnam(user) else { throw BenchError("no user \(user)") }
            guard geteuid() == 0 else { throw BenchError("--user \(user) needs root (the nodes' ids are changed by setpriv)") }
            account = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        } else {
            account = nil
        }
    }

    var ids: [String] { file.nodes.map(\.id) }

    func url(of node: String) -> String { file.nodes.first { $0.id == node }?.clientURL ?? "" }

    /// Starts `node` (again: the same data directory and config) and waits, bounded, until it
    /// prints that it listens.
    func start(_ node: String, limit: Duration = .seconds(90)) async throws {
        let incarnation = incarnations.withLock { counts in
            counts[node, default: 0] += 1
            return counts[node]!
        }
        let dataDirectory = runDirectory + "/" + node
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        if let account, chown(dataDirectory, account.uid, account.gid) != 0 {
            throw BenchError("cannot hand \(dataDirectory) to uid \(account.uid)")
        }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PARLEY_") }
        environment["PARLEY_ADMIN_TOKEN"] = adminToken
        environment["PARLEY_LINK_PREVIEWS"] = "false"
        // Quiet unless asked (`PARLEY_CHAOS_NODE_LOG_LEVEL=info` logs every leader change).
        environment["PARLEY_LOG_LEVEL"] = ProcessInfo.processInfo.environment["PARLEY_CHAOS_NODE_LOG_LEVEL"] ?? "warning"
        environment["PARLEY_DATA_DIR"] = dataDirectory
        // Five nodes share this machine's cores (as scripts/bench-cluster's nodes do).
        environment["PARLEY_EVENT_LOOP_THREADS"] = "1"
        if let port = realPeerPorts?[node], let index = ids.firstIndex(of: node) {
            // Behind the proxy: listen elsewhere, dial from this node's own loopback address.
            environment["PARLEY_PEER_LISTEN"] = "127.0.0.1:\(port)"
            environment["PARLEY_PEER_SOURCE_HOST"] = FaultProxy.sourceHost(ofNode: index)
        }
        let process = try ChaosProcess(
            binary: binary, arguments: ["serve", "--config", file.path, "--node", node], environment: environment,
            stdoutPath: runDirectory + "/\(node).\(incarnation).out", stderrPath: runDirectory + "/\(node).\(incarnation).err", account: account)
        current.withLock { $0[node] = process }
        stopped.withLock { _ = $0.remove(node) }
        if let pids = FileHandle(forWritingAtPath: runDirectory + "/pids") {
            pids.seekToEndOfFile()
            pids.write(Data("\(process.pid)\n".utf8))
            try? pids.close()
        }
        let deadline = ContinuousClock.now + limit
        while process.listeningURL == nil {
            guard process.isRunning else {
                throw BenchError("\(node) (start \(incarnation)) exited before listening:\n\(process.stderrTail(20))")
            }
            guard ContinuousClock.now < deadline else { throw BenchError("\(node) (start \(incarnation)) did not listen within \(limit)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func process(of node: String) -> ChaosProcess? { current.withLock { $0[node] } }

    func isRunning(_ node: String) -> Bool { process(of: node)?.isRunning ?? false }

    /// Running and not SIGSTOPped.
    func isServing(_ node: String) -> Bool { isRunning(node) && !stopped.withLock { $0.contains(node) } }


    func pid(of node: String) -> Int32 { process(of: node)?.pid ?? 0 }

    /// SIGKILLs `targets` at once, and waits (bounded) until they are reaped.
    func kill(_ targets: [String]) async {
        let processes = targets.compactMap { process(of: $0) }.filter { $0.send(SIGKILL) }
        for _ in 0..<500 {
            guard processes.contains(where: \.isRunning) else { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func pause(_ node: String) {
        if process(of: node)?.send(SIGSTOP) == true { stopped.withLock { _ = $0.insert(node) } }
    }

    func resume(_ node: String) {
        process(of: node)?.send(SIGCONT)
        stopped.withLock { _ = $0.remove(node) }
    }

    /// Resumes every stopped node and starts every dead one.
    func reviveAll() async throws -> [String] {
        var revived: [String] = []
        for node in ids {
            if stopped.withLock({ $0.contains(node) }) { resume(node) }
            if !isRunning(node) {
                try await start(node)
                revived.append(node)
            }
        }
        return revived
    }

    /// SIGTERM to every node, then SIGKILL to those still running after `grace`.
    func stopAll(grace: Duration = .seconds(15)) async {
        for node in ids {
            resume(node)
            process(of: node)?.send(SIGTERM)
        }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, ids.contains(where: isRunning) { try? await Task.sleep(for: .milliseconds(50)) }
        for node in ids { process(of: node)?.send(SIGKILL) }
    }

    /// How many times each node was started.
    var starts: [String: Int] { incarnations.withLock { $0 } }
}

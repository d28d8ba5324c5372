import Foundation
import Logging
import ParleyCluster
import ParleyPeer
import ParleyTestKit
import ServiceLifecycle
import Synchronization

/// `parley-bench peer [--seconds S] [--callers C] [--bytes B]`: two peer networks in this
/// process on loopback; `callers` tasks send messages of `bytes` bytes from one to the other
/// (answered by an echo) for `seconds`. Prints `{"calls_per_s","cpu_us_per_call","frames_per_batch"}`:
/// what one exchange between nodes costs, both ends together.
struct PeerBenchmark {
    let seconds: Int
    let callers: Int
    let bytes: Int

    init(arguments: [String]) {
        seconds = option("--seconds", in: arguments).flatMap(Int.init).map { min(max($0, 1), 120) } ?? 5
        callers = option("--callers", in: arguments).flatMap(Int.init).map { min(max($0, 1), 1_000) } ?? 16
        bytes = option("--bytes", in: arguments).flatMap(Int.init).map { min(max($0, 0), 1 << 20) } ?? 200
    }

    struct Echo: PeerReceiver {
        func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] { body }
    }

    func run() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try ClusterMembership(
            members: ports.enumerated().map { index, port in
                ClusterMember(
                    id: NodeID("node-\(index + 1)")!, peerAddress: HostPort(host: "127.0.0.1", port: port),
                    clientAddress: HostPort(host: "127.0.0.1", port: 9_000 + index))
            }, partitionCount: 16, replicationFactor: 3)
        var logger = Logger(label: "peer-bench")
        logger.logLevel = .warning
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, logger: logger)
        one.inbox.set(Echo())
        two.inbox.set(Echo())
        let services = ServiceGroup(services: [one, two], logger: logger)
        let body = [UInt8](repeating: 7, count: bytes)
        let target = NodeID("node-2")!
        let calls = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            // Until the stream is up.
            for _ in 0..<200 {
                if (try? await one.exchange(.entityCall, body, with: target, timeout: .seconds(1))) != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let before = CPUAccount.read(pid: getpid())
            let started = ContinuousClock.now
            let deadline = started + .seconds(seconds)
            try await withThrowingTaskGroup(of: Void.self) { load in
                for _ in 0..<callers {
                    load.addTask {
                        while ContinuousClock.now < deadline {
                            _ = try await one.exchange(.entityCall, body, with: target, timeout: .seconds(5))
                            calls.value.add(1, ordering: .relaxed)
                        }
                    }
                }
                try await load.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            let after = CPUAccount.read(pid: getpid())
            let total = calls.value.load(ordering: .relaxed)
            let cpu = before.processSeconds(until: after) ?? 0
            let seconds = parley_bench.seconds(elapsed)
            let streams = one.streamCounters()
            note("bench: \(total) calls in \(rounded(seconds)) s from \(callers) callers, \(bytes) B each; process CPU \(rounded(cpu)) s; \(streams.frames) frames in \(streams.batches) batches")
            printJSONLine([
                "calls_per_s": (Double(total) / seconds).rounded(),
                "cpu_us_per_call": rounded(cpu / Double(max(total, 1)) * 1_000_000),
                "frames_per_batch": rounded(Double(streams.frames) / Double(max(streams.batches, 1))),
            ])
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}

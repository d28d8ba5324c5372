import Foundation
import Logging
import ParleyCluster
import ParleyTestKit
import ServiceLifecycle
import Synchronization
import Testing

@testable import ParleyPeer

@Suite("Peer network")
struct PeerNetworkTests {
    static func membership(_ ports: [Int], partitions: Int = 16) throws -> ClusterMembership {
        try ClusterMembership(
            members: ports.enumerated().map { index, port in
                ClusterMember(
                    id: NodeID("node-\(index + 1)")!, peerAddress: HostPort(host: "127.0.0.1", port: port),
                    clientAddress: HostPort(host: "127.0.0.1", port: 9_000 + index))
            }, partitionCount: partitions, replicationFactor: 3)
    }

    /// Quick heartbeats. A handshake unanswered within `callTimeout` resets the connection
    /// (failing the calls waiting on it), and the whole suite running in parallel on two cores
    /// can stall this process for half a second: handshakes get 2 s, and tests that keep a
    /// call waiting for seconds 3 s.
    static func configuration(joinWindow: Duration = .seconds(10), callTimeout: Duration = .seconds(2)) -> PeerNetwork.Configuration {
        var configuration = PeerNetwork.Configuration()
        configuration.heartbeat = .milliseconds(100)
        configuration.callTimeout = callTimeout
        configuration.probeTimeout = callTimeout
        configuration.backoff.initial = .milliseconds(50)
        configuration.backoff.maximum = .milliseconds(200)
        configuration.joinWindow = joinWindow
        return configuration
    }

    /// Polls `condition` every 20 ms for at most `limit`.
    static func eventually(_ limit: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// Runs `networks` as services, then `body`, then shuts them down gracefully (as a node's
    /// service group does; cancelling them is not how they stop).
    static func running(_ networks: [PeerNetwork], _ body: () async throws -> Void) async throws {
        let services = ServiceGroup(services: networks, logger: Logger(label: "peer-test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var failure: (any Error)?
            do { try await body() } catch { failure = error }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            if let failure { throw failure }
        }
    }

    /// Runs `network` alone until it stops (with the error it threw, nil when none) or until
    /// `limit`, when it is shut down gracefully (and `TimedOut` returned): a network that
    /// unexpectedly runs cannot hold the test forever.
    static func run(_ network: PeerNetwork, stoppingAfter limit: Duration) async -> (any Error)? {
        let services = ServiceGroup(services: [network], logger: Logger(label: "peer-test"))
        return await withTaskGroup(of: RunOutcome.self) { group in
            group.addTask {
                do {
                    try await services.run()
                    return .stopped(nil)
                } catch {
                    return .stopped(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return .timedOut
            }
            guard case let .stopped(error) = await group.next() else {
                await services.triggerGracefulShutdown()
                await group.waitForAll()
                return TimedOut()
            }
            group.cancelAll()
            return error
        }
    }

    private enum RunOutcome: Sendable {
        case stopped((any Error)?)
        case timedOut
    }

    struct TimedOut: Error {}

    static func state(_ network: PeerNetwork, of peer: String) -> PeerHealth.Status? {
        network.statuses().first { $0.peer.id.rawValue == peer }?.health.status
    }

    @Test func peersGreetEachOtherAndADeadPeerIsReportedDownThenUp() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback(), try FreePort.loopback()]
        let membership = try Self.membership(ports)
        let logger = Logger(label: "peer-test")
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: Self.configuration(), logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: Self.configuration(), logger: logger)
        let three = try PeerNetwork(membership: membership, ownID: NodeID("node-3")!, configuration: Self.configuration(), logger: logger)
        one.inbox.set(EchoReceiver())
        three.inbox.set(EchoReceiver())
        try await Self.running([one, two]) {
            // node-3 is not running: node-1 and node-2 see each other up and node-3 down,
            // retried with backoff without holding up the pair.
            #expect(await Self.eventually { one.statuses().first { $0.peer.id.rawValue == "node-2" }?.health.isUp == true })
            #expect(await Self.eventually { two.statuses().first { $0.peer.id.rawValue == "node-1" }?.health.isUp == true })
            #expect(await Self.eventually {
                if case let .down(_, failures, _) = Self.state(one, of: "node-3") { failures >= 3 } else { false }
            })
            try await Self.running([three]) {
                #expect(await Self.eventually { one.statuses().allSatisfy(\.health.isUp) && three.statuses().allSatisfy(\.health.isUp) })
                // Traffic on the streams both ways, then node-3 alone stops.
                _ = try await one.exchange(.entityCall, [1], with: NodeID("node-3")!, timeout: .seconds(2))
                _ = try await three.exchange(.entityCall, [2], with: NodeID("node-1")!, timeout: .seconds(2))
            }
            // It asked its callers to close their streams (so it stopped without waiting for
            // them). node-1 reopens a closed stream after a pause (50 ms, doubling): when
            // node-3's stop outlasts the pause, the new stream is asked to close too.
            #expect((one.streams[NodeID("node-3")!]?.closesRequested ?? 0) >= 1)
        }
    }

    @Test func aNodeConfiguredForAnotherClusterRefusesToJoinAndTheClusterRunsOn() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let logger = Logger(label: "peer-test")
        // node-1 has been up a while (its join window is over); node-2 was given 32 partitions.
        let running = try PeerNetwork(
            membership: try Self.membership(ports), ownID: NodeID("node-1")!, configuration: Self.configuration(joinWindow: .zero), logger: logger)
        let joining = try PeerNetwork(
            membership: try Self.membership(ports, partitions: 32), ownID: NodeID("node-2")!, configuration: Self.configuration(), logger: logger)
        try await Self.running([running]) {
            do {
                try await joining.run()
                Issue.record("the misconfigured node joined")
            } catch let error as ClusterError {
                #expect(error.code == .membershipMismatch)
                #expect(error.message.contains("partitions=16") && error.message.contains("partitions=32"))
            }
            #expect(await Self.eventually {
                if case .mismatched = Self.state(running, of: "node-2") { true } else { false }
            })
        }
    }

    /// Answers every message with its kind and body reversed, naming the sender.
    struct EchoReceiver: PeerReceiver {
        func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
            [kind.rawValue] + Array(node.rawValue.utf8) + body.reversed()
        }
    }

    @Test func messagesTravelBothWaysAndADownPeerFailsFast() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback(), try FreePort.loopback()]
        let membership = try Self.membership(ports)
        let logger = Logger(label: "peer-test")
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: Self.configuration(), logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: Self.configuration(), logger: logger)
        one.inbox.set(EchoReceiver())
        two.inbox.set(EchoReceiver())
        try await Self.running([one, two]) {
            #expect(await Self.eventually { one.statuses().first { $0.peer.id.rawValue == "node-2" }?.health.isUp == true })
            let big = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0) }  // above gRPC's 4 MiB default
            let answer = try await one.exchange(.entityCall, big, with: NodeID("node-2")!, timeout: .seconds(10))
            #expect(answer == [PeerMessageKind.entityCall.rawValue] + Array("node-1".utf8) + big.reversed())
            let back = try await two.exchange(.liveEvents, [1, 2, 3], with: NodeID("node-1")!, timeout: .seconds(2))
            #expect(back == [PeerMessageKind.liveEvents.rawValue] + Array("node-2".utf8) + [3, 2, 1])
            // node-3 never started: the call fails within its deadline, as unavailable.
            let started = ContinuousClock.now
            await #expect(throws: ClusterError.self) {
                _ = try await one.exchange(.entityCall, [1], with: NodeID("node-3")!, timeout: .seconds(2))
            }
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    /// Records the peers it is told are gone.
    final class GoneRecorder: PeerReceiver {
        let gone = Mutex<[NodeID]>([])
        func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] { body }
        func peerGone(_ node: NodeID) { gone.withLock { $0.append(node) } }
    }

    @Test func aPeerWhoseProcessIsGoneIsDownAtOnceAndItsCallsFailFast() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try Self.membership(ports)
        let logger = Logger(label: "peer-test")
        // Handshakes every 30 s: within this test they never notice node-2 going.
        var configuration = Self.configuration()
        configuration.heartbeat = .seconds(30)
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: configuration, logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: configuration, logger: logger)
        let recorder = GoneRecorder()
        one.inbox.set(recorder)
        two.inbox.set(EchoReceiver())
        try await Self.running([one]) {
            try await Self.running([two]) {
                #expect(await Self.eventually { one.statuses().first { $0.peer.id.rawValue == "node-2" }?.health.isUp == true })
                _ = try await one.exchange(.entityCall, [1], with: NodeID("node-2")!, timeout: .seconds(5))
                #expect(recorder.gone.withLock { $0.isEmpty })
            }
            // node-2 stopped: its connection closed and its port refuses, so it is down and
            // the receiver told at once, not at the next handshake (30 s).
            #expect(await Self.eventually(.seconds(2)) { one.statuses().first { $0.peer.id.rawValue == "node-2" }?.health.isDown == true })
            #expect(recorder.gone.withLock { $0 } == [NodeID("node-2")!])
            let started = ContinuousClock.now
            await #expect(throws: ClusterError.self) {
                _ = try await one.exchange(.entityCall, [2], with: NodeID("node-2")!, timeout: .seconds(5))
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    /// Answers after `delay` (a slow entity call).
    struct SlowReceiver: PeerReceiver {
        let delay: Duration
        func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
            try? await Task.sleep(for: delay)
            return body
        }
    }

    @Test func aCancelledCallFailsAtOnceAndLaterCallsStillGetTheirAnswers() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try Self.membership(ports)
        let logger = Logger(label: "peer-test")
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: Self.configuration(callTimeout: .seconds(3)), logger: logger)
        let two = try PeerNetwork(membership: membership, ownID: NodeID("node-2")!, configuration: Self.configuration(callTimeout: .seconds(3)), logger: logger)
        one.inbox.set(EchoReceiver())
        // The answer takes 4 s; the cancelled call must fail well before (2 s leaves room for a
        // machine busy with other tests).
        two.inbox.set(SlowReceiver(delay: .seconds(4)))
        try await Self.running([one, two]) {
            #expect(await Self.eventually { one.statuses().first { $0.peer.id.rawValue == "node-2" }?.health.isUp == true })
            let started = ContinuousClock.now
            let outcome = await withTaskGroup(of: Result<[UInt8], ClusterError>.self) { group in
                group.addTask {
                    do throws(ClusterError) {
                        return .success(try await one.exchange(.entityCall, [7], with: NodeID("node-2")!, timeout: .seconds(10)))
                    } catch {
                        return .failure(error)
                    }
                }
                try? await Task.sleep(for: .milliseconds(100))
                group.cancelAll()
                return await group.next()
            }
            if case let .failure(error)? = outcome {
                #expect(error.code == .peerUnavailable && error.message.contains("cancelled"))
            } else {
                Issue.record("the cancelled call did not fail: \(String(describing: outcome))")
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            // The stream is unharmed: the next call is answered (once the slow receiver is done).
            let answer = try await one.exchange(.entityCall, [8], with: NodeID("node-2")!, timeout: .seconds(10))
            #expect(answer == [8])
        }
    }

    @Test func aNetworkThatCannotListenFailsItsCallsInsteadOfHoldingThem() async throws {
        let ports = [try FreePort.loopback(), try FreePort.loopback()]
        let membership = try Self.membership(ports)
        let logger = Logger(label: "peer-test")
        let one = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: Self.configuration(), logger: logger)
        let clash = try PeerNetwork(membership: membership, ownID: NodeID("node-1")!, configuration: Self.configuration(), logger: logger)
        try await Self.running([one]) {
            // node-1 runs (its port is bound) before the clash tries the same port.
            try #require(await Self.eventually { Self.state(one, of: "node-2") != .unknown })
            let outcome = await Self.run(clash, stoppingAfter: .seconds(10))
            #expect(outcome is ClusterError, "the clash should fail to listen: \(String(describing: outcome))")
            let started = ContinuousClock.now
            await #expect(throws: ClusterError.self) {
                _ = try await clash.exchange(.entityCall, [1], with: NodeID("node-2")!, timeout: .seconds(5))
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }
}

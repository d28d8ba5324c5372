import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// The chaos test's HTTP client: its own connection pool (many connections per node, short
/// connect timeout: a refused loopback dial is a dead node), JSON in and out, every request
/// with a deadline. A dial that fails fails its request at once and the next request dials
/// again (AsyncHTTPClient's default backs dials off for up to a minute, which kept a restarted
/// node out of reach long after it was back); the senders pause and move to another node
/// after a failed attempt, so failing fast costs nothing.
struct ChaosHTTP: Sendable {
    let client: HTTPClient

    init() {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .milliseconds(250), read: .seconds(10)))
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The status and JSON object answered; throws on a transport failure or the deadline.
    func call(
        post: Bool = false, put: Bool = false, _ url: String, token: String? = nil, body: String? = nil, headers: [(String, String)] = [],
        timeout: Duration
    ) async throws -> (status: Int, json: [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = put ? .PUT : post ? .POST : .GET
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let client = self.client
        let prepared = request
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout / .nanoseconds(1)))
        // The deadline covers the body too (AsyncHTTPClient's covers the head only).
        let (status, data) = try await withThrowingTaskGroup(of: (Int, Data)?.self) { group in
            group.addTask {
                let response = try await client.execute(prepared, deadline: deadline)
                let body = try await response.body.collect(upTo: 16 << 20)
                return (Int(response.status.code), Data(body.readableBytesView))
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next() ?? nil else { throw HTTPClientError.deadlineExceeded }
            return answer
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, object)
    }

    func shutdown() async { try? await client.shutdown() }
}

/// Everything the senders and the fault loop saw, with times in milliseconds since the load
/// started.
final class ChaosLedger: Sendable {
    /// One acknowledged send.
    struct Ack: Sendable {
        let room: String
        let partition: Int
        /// The sender that posted it (it posts one message at a time).
        let sender: Int
        let text: String
        let seq: Int
        /// When the attempt that was acknowledged began, and when its answer came.
        let attemptStartMs: Double
        let ackMs: Double
        /// The message's `posted_at` (when its leader decided it, wall clock) on the same scale.
        let postedAtMs: Double?
        /// Answered 200: a replay of an earlier post with the same key.
        let replayed: Bool
    }

    /// One send from its first attempt to its acknowledgement (or the end of the load).
    struct Operation: Sendable {
        let partition: Int
        let startMs: Double
        let endMs: Double
    }

    /// One attempt of a send, for the timeline of a slow failover.
    struct Attempt: Sendable {
        let partition: Int
        let node: String
        let startMs: Double
        let endMs: Double
        let outcome: String
    }

    /// One fault, as injected and then healed.
    struct Fault: Sendable {
        let kind: String
        let nodes: [String]
        let atMs: Double
        /// The written partitions the fault hit (those the nodes led, and any that lost a
        /// majority with them), and whether each kept a majority of live, reachable replicas.
        var led: [Int: Bool] = [:]
        /// When the fault was healed: the nodes started again, resumed or reconnected.
        var endedMs: Double
        var note = ""
    }

    let started: ContinuousClock.Instant
    /// The wall-clock time at `started` (the nodes share this machine's clock).
    let startedWall = Date()
    private let acks = Mutex<[Ack]>([])
    private let attempted = Mutex<[String: String]>([:])
    private let operations = Mutex<[Operation]>([])
    private let attempts = Mutex<[Attempt]>([])
    private let failures = Mutex<[String: Int]>([:])
    private let faults = Mutex<[Fault]>([])

    init(started: ContinuousClock.Instant) { self.started = started }

    /// Milliseconds since the load started.
    func now() -> Double { milliseconds(ContinuousClock.now - started) }

    /// A `posted_at` in milliseconds since the load started.
    func sinceStart(postedAt: String) -> Double? {
        (try? Date(postedAt, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            .map { $0.timeIntervalSince(startedWall) * 1_000 }
    }

    func attempt(_ text: String, room: String) { attempted.withLock { $0[text] = room } }

    func acknowledge(_ ack: Ack) { acks.withLock { $0.append(ack) } }

    func finish(_ operation: Operation) { operations.withLock { $0.append(operation) } }

    func tried(_ attempt: Attempt) { attempts.withLock { $0.append(attempt) } }

    func fail(_ reason: String) { failures.withLock { $0[reason, default: 0] += 1 } }

    func record(_ fault: Fault) {
        faults.withLock { $0.append(fault) }
        log("fault at \(rounded(fault.atMs)) ms, healed at \(rounded(fault.endedMs)) ms: \(fault.kind) \(fault.nodes.joined(separator: ","))\(fault.note.isEmpty ? "" : " (\(fault.note))")")
    }

    /// A line of the timeline, printed at once.
    func log(_ line: String) {
        note("chaos: " + line)
    }

    var allAcks: [Ack] { acks.withLock { $0 } }
    var allAttempted: [String: String] { attempted.withLock { $0 } }
    var allOperations: [Operation] { operations.withLock { $0 } }
    var allAttempts: [Attempt] { attempts.withLock { $0 } }
    var allFailures: [String: Int] { failures.withLock { $0 } }
    var allFaults: [Fault] { faults.withLock { $0 } }

    /// Acknowledgements per partition in the last `window` milliseconds.
    func recentAcks(withinMs window: Double) -> [Int: Int] {
        let since = now() - window
        return acks.withLock { acks in
            var counts: [Int: Int] = [:]
            for ack in acks.reversed() {
                guard ack.ackMs >= since else { break }
                counts[ack.partition, default: 0] += 1
            }
            return counts
        }
    }
}

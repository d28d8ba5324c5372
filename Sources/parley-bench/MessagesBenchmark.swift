import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// `parley-bench messages`: against a running node (started by `scripts/bench-messages`),
/// creates a sender and `members` staff, a space with all of them, connects every member
/// over WebSocket, then, in one run:
/// - h2load posts messages over HTTP/2 (h2c) from `clients` concurrent clients;
/// - meanwhile a probe message is posted every 50 ms and its arrival timed at every member
///   (deliver latency: from the probe's send to its arrival at a member's socket);
/// - h2load with the same settings fetches a static file from nghttpd (first, while the
///   node is idle).
/// Prints `{"sends_per_s","send_p99_ms","deliver_p99_ms","nghttpd_static_per_s","ratio_vs_nghttpd"}`.
struct MessagesBenchmark: Sendable {
    let httpURL: String
    let h2cURL: String
    let adminToken: String
    let staticURL: String
    let members: Int
    /// The node's process, to read the CPU time the load cost it.
    let nodePID: Int32?
    var settings = H2LoadRun.Settings()

    init(arguments: [String]) throws {
        guard let http = option("--http", in: arguments), let h2c = option("--h2c", in: arguments),
            let admin = option("--admin-token", in: arguments), let staticURL = option("--static", in: arguments)
        else { throw BenchError("messages needs --http URL --h2c URL --admin-token T --static URL") }
        httpURL = http
        h2cURL = h2c
        adminToken = admin
        self.staticURL = staticURL
        members = option("--members", in: arguments).flatMap(Int.init).map { min(max($0, 1), 500) } ?? 50
        settings.clients = option("--clients", in: arguments).flatMap(Int.init).map { min(max($0, 1), 1_000) } ?? 64
        settings.seconds = option("--seconds", in: arguments).flatMap(Int.init).map { min(max($0, 1), 600) } ?? 10
        nodePID = option("--node-pid", in: arguments).flatMap(Int32.init)
    }

    func run() async throws {
        let work = NSTemporaryDirectory() + "parley-bench-messages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        // The baseline first, while the node is idle: measured after the load, it would
        // share the cores with the node's deferred work (RocksDB flushes and compactions).
        let baseline = try await H2LoadRun.run(url: staticURL, settings: settings, workDirectory: work)
        note("bench: nghttpd static \(baseline.requestsPerSecond) req/s, p99 \(baseline.p99Milliseconds) ms, \(baseline.failed) failed")

        let sender = try await createStaff("bench-sender")
        var memberTokens: [String] = []
        for index in 0..<members { memberTokens.append(try await createStaff("bench-member-\(index)")) }
        let memberIDs = (0..<members).map { "\"bench-member-\($0)\"" }.joined(separator: ",")
        let created = try await call("/v1/rooms", token: sender, body: #"{"name":"Bench","members":[\#(memberIDs)]}"#)
        guard let room = created["id"] as? String else { throw BenchError("no room id in \(created)") }
        note("bench: room \(room) with \(members) members; \(settings.clients) h2load clients for \(settings.seconds) s")

        let liveURL = httpURL.replacingOccurrences(of: "http://", with: "ws://") + "/v1/live"
        let ready = Counter()
        let (sends, arrivals, probesSent) = try await withThrowingTaskGroup(of: BenchMember.Arrivals?.self) { group in
            for token in memberTokens {
                let member = BenchMember(token: token, liveURL: liveURL, room: room)
                group.addTask { try await member.run { ready.value.add(1, ordering: .relaxed) } }
            }
            try await waitUntil("every member subscribed", limit: .seconds(60)) { ready.value.load(ordering: .relaxed) == members }
            let before = CPUAccount.read(pid: nodePID)
            let (sends, probesSent) = try await measureSends(room: room, sender: sender, work: work)
            let after = CPUAccount.read(pid: nodePID)
            if let seconds = before.processSeconds(until: after) {
                let total = Double(sends.succeeded + sends.failed)
                note("bench: node CPU \(rounded(seconds)) s for the load: \(rounded(seconds / max(total, 1) * 1_000_000)) µs per send (warm-up included)")
            }
            note("bench: machine time stolen by other guests during the load: \(rounded(before.stealShare(until: after) * 100)) %")
            _ = try await call("/v1/rooms/\(room)/messages", token: sender, body: #"{"text":"\#(BenchMember.endMarker)"}"#)
            var arrivals: [BenchMember.Arrivals] = []
            let endDeadline = ContinuousClock.now + .seconds(60)
            group.addTask {
                try await Task.sleep(until: endDeadline)
                return nil
            }
            while arrivals.count < members, let result = try await group.next() {
                guard let result else { throw BenchError("members did not all see the end marker within a minute") }
                arrivals.append(result)
            }
            group.cancelAll()
            return (sends, arrivals, probesSent)
        }

        // Delivery: from the node accepting a probe (its posted_at) to its arrival at a member.
        // End to end: from the sender starting its POST to the arrival (that adds the send's
        // queueing under the saturating load, which send_p99_ms reports).
        var latencies: [Double] = []
        var endToEnd: [Double] = []
        var missing = 0
        for member in arrivals {
            for (probe, sent) in probesSent {
                guard let arrived = member.probes[probe], let sincePosted = member.sincePosted[probe] else {
                    missing += 1
                    continue
                }
                latencies.append(max(sincePosted, 0))
                endToEnd.append(milliseconds(arrived - sent))
            }
        }
        let frames = arrivals.reduce(0) { $0 + $1.frames }
        note("bench: \(probesSent.count) probes × \(members) members: \(latencies.count) deliveries, \(missing) missing; \(frames) event frames read")
        note("bench: deliver (posted_at → member) p50 \(rounded(percentile(latencies, 0.5))) ms, p99 \(rounded(percentile(latencies, 0.99))) ms, max \(rounded(latencies.max() ?? 0)) ms")
        note("bench: end to end (sender's POST → member) p50 \(rounded(percentile(endToEnd, 0.5))) ms, p99 \(rounded(percentile(endToEnd, 0.99))) ms")
        guard missing == 0 else { throw BenchError("\(missing) probe deliveries never arrived") }

        let deliverP99 = percentile(latencies, 0.99)
        printJSONLine([
            "sends_per_s": sends.requestsPerSecond.rounded(),
            "send_p99_ms": rounded(sends.p99Milliseconds),
            "deliver_p99_ms": rounded(deliverP99),
            "nghttpd_static_per_s": baseline.requestsPerSecond.rounded(),
            "ratio_vs_nghttpd": (sends.requestsPerSecond / baseline.requestsPerSecond * 1_000).rounded() / 1_000,
        ])
    }

    /// h2load's sends, with probes posted every 50 ms while it runs; the probes' send instants.
    private func measureSends(room: String, sender: String, work: String) async throws -> (H2LoadRun, [Int: ContinuousClock.Instant]) {
        let probes = ProbeLog()
        let sends = try await withThrowingTaskGroup(of: H2LoadRun?.self) { group in
            group.addTask {
                defer { probes.running.store(false, ordering: .relaxed) }
                return try await H2LoadRun.run(
                    url: h2cURL + "/v1/rooms/\(room)/messages", settings: settings,
                    headers: ["authorization: Bearer \(sender)", "content-type: application/json"],
                    body: #"{"text":"a message of ordinary length from the benchmark's load"}"#, workDirectory: work)
            }
            group.addTask {
                let limit = settings.seconds + settings.warmUpSeconds + 60
                for probe in 0..<(limit * 20) where probes.running.load(ordering: .relaxed) {
                    let sent = ContinuousClock.now
                    _ = try await call("/v1/rooms/\(room)/messages", token: sender, body: #"{"text":"\#(BenchMember.probePrefix)\#(probe)"}"#)
                    probes.sent.withLock { $0[probe] = sent }
                    try await Task.sleep(until: sent + .milliseconds(50))
                }
                return nil
            }
            var run: H2LoadRun?
            for try await result in group { if let result { run = result } }
            return run
        }
        guard let sends else { throw BenchError("h2load reported nothing") }
        note("bench: sends \(sends.requestsPerSecond) req/s, p99 \(sends.p99Milliseconds) ms, \(sends.succeeded) succeeded, \(sends.failed) failed, \(sends.non2xx) non-2xx")
        guard sends.non2xx == 0, sends.failed == 0 else { throw BenchError("h2load saw failed sends") }
        return (sends, probes.sent.withLock { $0 })
    }

    private func createStaff(_ id: String) async throws -> String {
        let created = try await call("/v1/staff", token: adminToken, body: #"{"id":"\#(id)","display_name":"\#(id)"}"#)
        guard let token = created["token"] as? String else { throw BenchError("could not create staff \(id): \(created)") }
        return token
    }

    private func call(_ path: String, token: String, body: String) async throws -> [String: Any] {
        try await requestJSON(httpURL + path, token: token, body: body)
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// When each probe was sent, and whether the load still runs.
final class ProbeLog: Sendable {
    let sent = Mutex<[Int: ContinuousClock.Instant]>([:])
    /// The room each probe went to (the cluster benchmark).
    let rooms = Mutex<[Int: String]>([:])
    let running = Atomic<Bool>(true)
}

func waitUntil(_ what: String, limit: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw BenchError("timed out waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
}

func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

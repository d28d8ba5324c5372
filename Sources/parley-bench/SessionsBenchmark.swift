import Foundation
import Synchronization

/// `parley-bench sessions --http URL --admin-token T --node-pid PID [--sessions N] [--staff K]`:
/// against a running node (started by `scripts/bench-sessions`), connects N live sessions
/// (default 5,000) of K staff members (default 50; a member may hold many sessions), each
/// subscribed to one room all of them are in; then reads the node's resident memory per
/// session, posts one message to the room and times its arrival at every session. Prints
/// `{"sessions","kb_per_session","rss_before_mb","rss_after_mb","fanout_p50_ms","fanout_p99_ms",
/// "missing","client_cpu_pct"}`: the memory is the node's growth from before the first
/// session to after the last subscribed, over the sessions; fan-out runs from the post's
/// sending to each session's receipt; the client's own CPU over the fan-out (in
/// percent of one core) says whether the client could have been the bottleneck.
struct SessionsBenchmark: Sendable {
    let httpURL: String
    let adminToken: String
    let nodePID: Int32
    let sessions: Int
    let staff: Int

    init(arguments: [String]) throws {
        guard let http = option("--http", in: arguments), let admin = option("--admin-token", in: arguments),
            let pid = option("--node-pid", in: arguments).flatMap(Int32.init)
        else { throw BenchError("sessions needs --http URL --admin-token T --node-pid PID") }
        httpURL = http
        adminToken = admin
        nodePID = pid
        sessions = option("--sessions", in: arguments).flatMap(Int.init).map { min(max($0, 1), 100_000) } ?? 5_000
        staff = option("--staff", in: arguments).flatMap(Int.init).map { min(max($0, 1), 500) } ?? 50
    }

    /// The node's resident set, in kilobytes (`/proc/<pid>/status`).
    static func residentKB(of pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func run() async throws {
        var tokens: [String] = []
        for index in 0..<staff {
            let created = try await requestJSON(httpURL + "/v1/staff", token: adminToken, body: #"{"id":"session-\#(index)","display_name":"Session \#(index)"}"#)
            guard let token = created["token"] as? String else { throw BenchError("could not create staff: \(created)") }
            tokens.append(token)
        }
        let members = (1..<staff).map { "\"session-\($0)\"" }.joined(separator: ",")
        let created = try await requestJSON(httpURL + "/v1/rooms", token: tokens[0], body: #"{"name":"Everyone","members":[\#(members)]}"#)
        guard let room = created["id"] as? String else { throw BenchError("no room id in \(created)") }
        try await Task.sleep(for: .seconds(2))  // the setup's notices are delivered
        let before = Self.residentKB(of: nodePID)
        let liveURL = httpURL.replacingOccurrences(of: "http://", with: "ws://") + "/v1/live"
        let ready = Counter()
        let sessions = self.sessions
        let (arrivals, sent, after, clientCPU) = try await withThrowingTaskGroup(of: BenchMember.Arrivals?.self) { group in
            for index in 0..<sessions {
                let member = BenchMember(token: tokens[index % tokens.count], liveURL: liveURL, room: room)
                group.addTask { try await member.run { ready.value.add(1, ordering: .relaxed) } }
                // Connect in waves, so the node's accept queue is not the measurement.
                if index % 200 == 199 { try await Task.sleep(for: .milliseconds(50)) }
            }
            try await waitUntil("every session subscribed (\(ready.value.load(ordering: .relaxed)) of \(sessions))", limit: .seconds(600)) {
                ready.value.load(ordering: .relaxed) == sessions
            }
            try await Task.sleep(for: .seconds(3))
            let after = Self.residentKB(of: nodePID)
            let cpuBefore = CPUAccount.read(pid: getpid())
            let sent = ContinuousClock.now
            _ = try await requestJSON(httpURL + "/v1/rooms/\(room)/messages", token: tokens[0], body: #"{"text":"\#(BenchMember.probePrefix)0"}"#)
            try await Task.sleep(for: .seconds(5))
            let cpuAfter = CPUAccount.read(pid: getpid())
            _ = try await requestJSON(httpURL + "/v1/rooms/\(room)/messages", token: tokens[0], body: #"{"text":"\#(BenchMember.endMarker)"}"#)
            var arrivals: [BenchMember.Arrivals] = []
            for try await arrival in group { if let arrival { arrivals.append(arrival) } }
            return (arrivals, sent, after, (cpuBefore.processSeconds(until: cpuAfter) ?? 0) / 5 * 100)
        }
        let latencies = arrivals.compactMap { $0.probes[0].map { milliseconds($0 - sent) } }.sorted()
        note("sessions: node RSS \(rounded(before / 1_024)) MB before, \(rounded(after / 1_024)) MB with \(sessions) subscribed sessions")
        printJSONLine([
            "sessions": Double(sessions), "kb_per_session": rounded((after - before) / Double(sessions)),
            "rss_before_mb": rounded(before / 1_024), "rss_after_mb": rounded(after / 1_024),
            "fanout_p50_ms": rounded(percentile(latencies, 0.5)), "fanout_p99_ms": rounded(percentile(latencies, 0.99)),
            "missing": Double(sessions - latencies.count), "client_cpu_pct": rounded(clientCPU),
        ])
    }
}

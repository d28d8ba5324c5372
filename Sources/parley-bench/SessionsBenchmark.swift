import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `parley-bench sessions --http URL --admin-token T --node-pid PID [--sessions N] [--staff K] [--probes P]`:
/// against a running node (started by `scripts/bench-sessions`), connects N live sessions
/// (default 5,000) of K staff members (default 50; a member may hold many sessions), each
/// subscribed to one room all of them are in; then reads the node's resident memory per
/// session, and posts P probe messages (default 5, a second apart) to the room, timing each
/// one's arrival at every session. Prints `{"sessions","kb_per_session","rss_before_mb",
/// "rss_after_mb","fanout_p50_ms","fanout_p99_ms","fanout_max_ms","missing","client_cpu_ms",
/// "node_cpu_ms","client_cpu_share"}`: the memory is the node's growth from before the first
/// session to after the last subscribed, over the sessions; fan-out runs from a probe's sending
/// to each session's receipt, over every probe and session; the CPU figures are each process's
/// CPU time over the fan-outs (from each probe's sending until every session had it), and
/// the client's share of both says whether the client could have been the bottleneck.
struct SessionsBenchmark: Sendable {
    let httpURL: String
    let adminToken: String
    let nodePID: Int32
    let sessions: Int
    let staff: Int
    let probes: Int

    init(arguments: [String]) throws {
        guard let http = option("--http", in: arguments), let admin = option("--admin-token", in: arguments),
            let pid = option("--node-pid", in: arguments).flatMap(Int32.init)
        else { throw BenchError("sessions needs --http URL --admin-token T --node-pid PID") }
        httpURL = http
        adminToken = admin
        nodePID = pid
        sessions = option("--sessions", in: arguments).flatMap(Int.init).map { min(max($0, 1), 100_000) } ?? 5_000
        staff = option("--staff", in: arguments).flatMap(Int.init).map { min(max($0, 1), 500) } ?? 50
        probes = option("--probes", in: arguments).flatMap(Int.init).map { min(max($0, 1), 100) } ?? 5
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
        guard let url = URL(string: httpURL), let host = url.host, let port = url.port else { throw BenchError("bad --http \(httpURL)") }
        let client = SessionsClient(host: host, port: port, room: room, threads: 2)
        // Connect in waves of 200, so the node's accept queue is not the measurement.
        for wave in stride(from: 0, to: sessions, by: 200) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in wave..<min(wave + 200, sessions) {
                    let token = tokens[index % tokens.count]
                    group.addTask { try await client.connect(token: token) }
                }
                try await group.waitForAll()
            }
        }
        var lastNote = ContinuousClock.now
        try await waitUntil("every session subscribed (\(client.tally.ready) of \(sessions))", limit: .seconds(600)) {
            if ContinuousClock.now - lastNote > .seconds(10) {
                lastNote = .now
                note("sessions: \(client.tally.ready) of \(sessions) subscribed")
            }
            return client.tally.ready == sessions
        }
        try await Task.sleep(for: .seconds(3))
        let after = Self.residentKB(of: nodePID)
        var latencies: [Double] = []
        var clientCPU = 0.0
        var nodeCPU = 0.0
        var missing = 0
        note("sessions: all \(sessions) subscribed; \(probes) probes")
        for probe in 0..<probes {
            let clientBefore = Self.ownCPUSeconds()
            let nodeBefore = CPUAccount.read(pid: nodePID)
            let sent = ContinuousClock.now
            _ = try await requestJSON(httpURL + "/v1/rooms/\(room)/messages", token: tokens[0], body: #"{"text":"\#(BenchMember.probePrefix)\#(probe)"}"#)
            // Until every session has it (or 10 s): the CPU both sides spent on this fan-out.
            let deadline = ContinuousClock.now + .seconds(10)
            while client.tally.count(of: probe) < sessions, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            clientCPU += Self.ownCPUSeconds() - clientBefore
            nodeCPU += nodeBefore.processSeconds(until: CPUAccount.read(pid: nodePID)) ?? 0
            let arrivals = client.tally.arrivals(of: probe)
            missing += sessions - arrivals.count
            latencies += arrivals.map { milliseconds($0 - sent) }
            try await Task.sleep(for: .seconds(1))
        }
        try await client.shutdown()
        latencies.sort()
        note("sessions: node RSS \(rounded(before / 1_024)) MB before, \(rounded(after / 1_024)) MB with \(sessions) subscribed sessions")
        printJSONLine([
            "sessions": Double(sessions), "kb_per_session": rounded((after - before) / Double(sessions)),
            "rss_before_mb": rounded(before / 1_024), "rss_after_mb": rounded(after / 1_024),
            "probes": Double(probes),
            "fanout_p50_ms": rounded(percentile(latencies, 0.5)), "fanout_p99_ms": rounded(percentile(latencies, 0.99)),
            "fanout_max_ms": rounded(latencies.last ?? 0),
            "missing": Double(missing), "client_cpu_ms": rounded(clientCPU * 1_000), "node_cpu_ms": rounded(nodeCPU * 1_000),
            "client_cpu_share": rounded(clientCPU / max(clientCPU + nodeCPU, 0.000_001)),
        ])
    }

    /// This process's user + system CPU seconds (microsecond resolution).
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore

/// `parley-bench cluster`: against running nodes (one node, or every node of a cluster, as
/// `scripts/bench-cluster` starts them), in one run:
/// - creates a sender, `rooms` rooms of `members` members each, and connects every member over
///   WebSocket to a node in turn (so a room's members sit on different nodes);
/// - h2load posts messages over HTTP/2 (h2c) to every room in turn, one h2load per node with
///   the `clients` spread over them, so each node takes its share of the sends and forwards
///   those whose room another node serves;
/// - meanwhile a probe message is posted every 50 ms, to each room and through each node in
///   turn, and its arrival timed at the room's members (from the serving node's `posted_at`).
/// Prints `{"nodes","sends_per_s","send_p99_ms","deliver_p99_ms","forwarded_fraction"}`;
/// `forwarded_fraction` is the share of the nodes' entity calls sent to another node
/// (`parley_forwarded_calls_total` / `parley_entity_calls_total`, over all nodes).
struct ClusterBenchmark: Sendable {
    let httpURLs: [String]
    let h2cURLs: [String]
    let adminToken: String
    let rooms: Int
    let members: Int
    let nodePIDs: [Int32]
    var settings = H2LoadRun.Settings()

    init(arguments: [String]) throws {
        guard let http = option("--http", in: arguments), let h2c = option("--h2c", in: arguments),
            let admin = option("--admin-token", in: arguments)
        else { throw BenchError("cluster needs --http URL,… --h2c URL,… --admin-token T") }
        let nodes = http.split(separator: ",").map(String.init)
        httpURLs = nodes
        h2cURLs = h2c.split(separator: ",").map(String.init)
        guard !nodes.isEmpty, nodes.count == h2cURLs.count else { throw BenchError("--http and --h2c must list the same nodes") }
        adminToken = admin
        rooms = option("--rooms", in: arguments).flatMap(Int.init).map { min(max($0, 1), 100) } ?? 12
        members = option("--members", in: arguments).flatMap(Int.init).map { min(max($0, 1), 50) } ?? 2
        settings.clients = option("--clients", in: arguments).flatMap(Int.init).map { min(max($0, nodes.count), 1_000) } ?? 64
        settings.seconds = option("--seconds", in: arguments).flatMap(Int.init).map { min(max($0, 1), 600) } ?? 10
        nodePIDs = (option("--node-pids", in: arguments) ?? "").split(separator: ",").compactMap { Int32($0) }
    }

    func run() async throws {
        let work = NSTemporaryDirectory() + "parley-bench-cluster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let nodes = httpURLs.count

        let sender = try await createStaff("bench-sender")
        var roomIDs: [String] = []
        var joiners: [BenchMember] = []
        for room in 0..<rooms {
            var ids: [String] = []
            for member in 0..<members {
                let id = "bench-r\(room)-m\(member)"
                let token = try await createStaff(id)
                ids.append(id)
                let node = (room * members + member) % nodes
                joiners.append(BenchMember(token: token, liveURL: Self.liveURL(httpURLs[node]), room: "\(room)"))
            }
            let list = ids.map { "\"\($0)\"" }.joined(separator: ",")
            let created = try await call(httpURLs[room % nodes], "/v1/rooms", token: sender, body: #"{"name":"Bench \#(room)","members":[\#(list)]}"#)
            guard let id = created["id"] as? String else { throw BenchError("no room id in \(created)") }
            roomIDs.append(id)
        }
        // Each member now knows its room's id.
        let sessions = joiners.map { BenchMember(token: $0.token, liveURL: $0.liveURL, room: roomIDs[Int($0.room)!]) }
        note("bench: \(nodes) node(s), \(rooms) rooms × \(members) members on WebSockets, \(settings.clients) h2load clients for \(settings.seconds) s")

        let ready = Counter()
        let (sends, arrivals, probes, calls) = try await withThrowingTaskGroup(of: (String, BenchMember.Arrivals)?.self) { group in
            for session in sessions {
                group.addTask { (session.room, try await session.run { ready.value.add(1, ordering: .relaxed) }) }
            }
            try await waitUntil("every member subscribed", limit: .seconds(120)) { ready.value.load(ordering: .relaxed) == sessions.count }
            let countersBefore = try await counters()
            let ((sends, probes), cpu) = try await NodesCPU.measure(pids: nodePIDs) { try await measureSends(rooms: roomIDs, sender: sender, work: work) }
            let countersAfter = try await counters()
            let delta = { (name: String) in Int((countersAfter[name] ?? 0) - (countersBefore[name] ?? 0)) }
            let total = Double(sends.succeeded + sends.failed)
            note("bench: nodes' CPU \(cpu.seconds.map(rounded)) s for the load: \(rounded(cpu.microseconds(per: total))) µs per send (warm-up included)")
            if let machine = cpu.machine { note("bench: machine time stolen by other guests during the load: \(rounded(machine.stolen)) %") }
            for (index, room) in roomIDs.enumerated() {
                _ = try await call(httpURLs[index % nodes], "/v1/rooms/\(room)/messages", token: sender, body: #"{"text":"\#(BenchMember.endMarker)"}"#)
            }
            var arrivals: [(String, BenchMember.Arrivals)] = []
            let endDeadline = ContinuousClock.now + .seconds(60)
            group.addTask {
                try await Task.sleep(until: endDeadline)
                return nil
            }
            while arrivals.count < sessions.count, let result = try await group.next() {
                guard let result else { throw BenchError("members did not all see the end marker within a minute") }
                arrivals.append(result)
            }
            group.cancelAll()
            let frames = delta("parley_peer_frames_sent_total")
            let batches = delta("parley_peer_batches_sent_total")
            if batches > 0 { note("bench: peer messages \(frames) in \(batches) batches (\(rounded(Double(frames) / Double(batches))) a batch)") }
            let appends = delta("parley_log_appends_total")
            let commits = delta("parley_log_commits_total")
            if commits > 0 { note("bench: log entries \(appends) in \(commits) fsync'd commits (\(rounded(Double(appends) / Double(commits))) a commit)") }
            return (sends, arrivals, probes, (delta("parley_entity_calls_total"), delta("parley_forwarded_calls_total")))
        }

        var latencies: [Double] = []
        var missing = 0
        var slowest: (probe: Int, milliseconds: Double) = (-1, 0)
        for (room, member) in arrivals {
            for (probe, probeRoom) in probes where probeRoom == room {
                guard let sincePosted = member.sincePosted[probe] else {
                    missing += 1
                    continue
                }
                latencies.append(max(sincePosted, 0))
                if sincePosted > slowest.milliseconds { slowest = (probe, sincePosted) }
            }
        }
        note("bench: slowest delivery: probe \(slowest.probe) of \(probes.count), \(rounded(slowest.milliseconds)) ms")
        note("bench: \(probes.count) probes: \(latencies.count) deliveries, \(missing) missing")
        note("bench: deliver (posted_at → member) p50 \(rounded(percentile(latencies, 0.5))) ms, p99 \(rounded(percentile(latencies, 0.99))) ms, max \(rounded(latencies.max() ?? 0)) ms")
        note("bench: entity calls \(calls.0), forwarded \(calls.1)")
        guard missing == 0 else { throw BenchError("\(missing) probe deliveries never arrived") }
        printJSONLine([
            "nodes": Double(nodes),
            "sends_per_s": sends.requestsPerSecond.rounded(),
            "send_p99_ms": rounded(sends.p99Milliseconds),
            "deliver_p99_ms": rounded(percentile(latencies, 0.99)),
            "forwarded_fraction": calls.0 > 0 ? (Double(calls.1) / Double(calls.0) * 1_000).rounded() / 1_000 : 0,
        ])
    }

    static func liveURL(_ http: String) -> String { http.replacingOccurrences(of: "http://", with: "ws://") + "/v1/live" }

    /// One h2load per node, side by side, with the clients spread over them, each posting to
    /// every room in turn; probes every 50 ms meanwhile. Returns the merged run and, by probe
    /// number, the room each probe went to.
    private func measureSends(rooms: [String], sender: String, work: String) async throws -> (H2LoadRun, [Int: String]) {
        let probes = ProbeLog()
        let nodes = h2cURLs.count
        let body = #"{"text":"a message of ordinary length from the benchmark's load"}"#
        let headers = ["authorization: Bearer \(sender)", "content-type: application/json"]
        let load = try await withThrowingTaskGroup(of: SpreadLoad?.self) { group in
            group.addTask {
                defer { probes.running.store(false, ordering: .relaxed) }
                return try await SpreadLoad.run(
                    urlsByNode: h2cURLs.map { h2c in rooms.map { h2c + "/v1/rooms/\($0)/messages" } }, settings: settings, headers: headers,
                    body: body, workDirectory: work)
            }
            group.addTask {
                // Until the load ends (every h2load has returned), bounded by its length.
                let limit = settings.seconds + settings.warmUpSeconds + 60
                for probe in 0..<(limit * 20) where probes.running.load(ordering: .relaxed) {
                    let sent = ContinuousClock.now
                    let room = rooms[probe % rooms.count]
                    _ = try await call(httpURLs[probe % nodes], "/v1/rooms/\(room)/messages", token: sender, body: #"{"text":"\#(BenchMember.probePrefix)\#(probe)"}"#)
                    probes.rooms.withLock { $0[probe] = room }
                    try await Task.sleep(until: sent + .milliseconds(50))
                }
                return nil
            }
            var load: SpreadLoad?
            for try await result in group where result != nil { load = result }
            guard let load else { throw BenchError("the load did not finish") }
            return load
        }
        let merged = load.run
        note("bench: sends per node \(load.perNode.map { $0.rounded() }) req/s; in all \(merged.requestsPerSecond.rounded()) req/s, p99 \(rounded(merged.p99Milliseconds)) ms, \(merged.succeeded) succeeded, \(merged.failed) failed, \(merged.non2xx) non-2xx")
        guard merged.non2xx == 0, merged.failed == 0 else { throw BenchError("h2load saw failed sends") }
        return (merged, probes.rooms.withLock { $0 })
    }

    /// `parley_entity_calls_total` and `parley_forwarded_calls_total`, summed over the nodes.
    static let counterNames = [
        "parley_entity_calls_total", "parley_forwarded_calls_total", "parley_peer_frames_sent_total", "parley_peer_batches_sent_total",
        "parley_log_appends_total", "parley_log_commits_total",
    ]

    /// The nodes' counters of `counterNames`, summed over the nodes.
    private func counters() async throws -> [String: Double] {
        try await summedCounters(Self.counterNames, metricsURLs: httpURLs.map { $0 + "/metrics" }, client: .shared)
    }

    private func createStaff(_ id: String) async throws -> String {
        let created = try await call(httpURLs[0], "/v1/staff", token: adminToken, body: #"{"id":"\#(id)","display_name":"\#(id)"}"#)
        guard let token = created["token"] as? String else { throw BenchError("could not create staff \(id): \(created)") }
        return token
    }

    private func call(_ base: String, _ path: String, token: String, body: String) async throws -> [String: Any] {
        try await requestJSON(base + path, token: token, body: body)
    }
}

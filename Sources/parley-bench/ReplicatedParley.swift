import AsyncHTTPClient
import Foundation
import ParleyCluster
import ParleyDomain

/// A running Parley cluster under `parley-bench replicated parley`: the load posts messages
/// to `rooms` rooms in turn (as `parley-bench cluster` does), through every node; the node
/// killed is the one leading the most partitions by `GET /cluster`, and the failover probes
/// post to rooms on partitions it led, through the other nodes.
struct ParleySystem: ReplicatedSystem {
    let name = "parley"
    let httpURLs: [String]
    /// Where the load goes: the nodes' HTTP/1.1 listeners, or their h2c listeners.
    let loadBases: [String]
    let http1: Bool
    let sender: String
    let rooms: [String]
    let partitions: Int

    var nodeCount: Int { httpURLs.count }
    var loadHeaders: [String] { ["authorization: Bearer \(sender)", "content-type: application/json"] }
    var loadBody: String { #"{"text":"a message of ordinary length from the benchmark's load"}"# }
    /// With `--placement leader`: the rooms each node leads the partition of when the load
    /// starts, so that no post is forwarded (a diagnostic: how much forwarding costs). Empty:
    /// every node posts to every room, as clients that connect to any node do.
    var roomsByLeader: [[String]] = []
    func loadURLs(node: Int) -> [String] {
        (roomsByLeader.isEmpty ? rooms : roomsByLeader[node]).map { loadBases[node] + "/v1/rooms/\($0)/messages" }
    }
    /// Entity calls, those forwarded to another node, fsync'd Raft writes, applied entries, and
    /// the peer frames sent with the batches (HTTP/2 DATA frames) they went in.
    var counterNames: [String] {
        [
            "parley_entity_calls_total", "parley_forwarded_calls_total", "parley_log_commits_total", "parley_log_appends_total",
            "parley_peer_frames_sent_total", "parley_peer_batches_sent_total",
        ]
    }
    func metricsURL(node: Int) -> String { httpURLs[node] + "/metrics" }

    /// Reads the arguments, waits until every partition has a leader every node agrees on,
    /// and creates the sender and the rooms.
    static func prepare(arguments: [String], client: HTTPClient) async throws -> ParleySystem {
        guard let http = option("--http", in: arguments), let admin = option("--admin-token", in: arguments) else {
            throw BenchError("replicated parley needs --http URL,… --admin-token T")
        }
        let httpURLs = http.split(separator: ",").map(String.init)
        let h2cURLs = (option("--h2c", in: arguments) ?? "").split(separator: ",").map(String.init)
        let http1 = option("--protocol", in: arguments) != "h2c"
        guard http1 || h2cURLs.count == httpURLs.count else { throw BenchError("--protocol h2c needs --h2c URL,… for every node") }
        let roomCount = option("--rooms", in: arguments).flatMap(Int.init).map { min(max($0, 1), 1_000) } ?? 12

        let deadline = ContinuousClock.now + .seconds(60)
        var views = try await clusterViews(httpURLs, client: client)
        while !agreeOnEveryLeader(views) {
            guard ContinuousClock.now < deadline else { throw BenchError("the nodes did not agree on a leader for every partition within 60 s") }
            try await Task.sleep(for: .milliseconds(100))
            views = try await clusterViews(httpURLs, client: client)
        }
        views = try await steadyLeaders(httpURLs, from: views, client: client)
        let created = try await requestJSON(httpURLs[0] + "/v1/staff", token: admin, body: #"{"id":"bench-sender","display_name":"Bench"}"#)
        guard let sender = created["token"] as? String else { throw BenchError("could not create the sender: \(created)") }
        var rooms: [String] = []
        for room in 0..<roomCount {
            rooms.append(try await createRoom(httpURLs[room % httpURLs.count], name: "Bench \(room)", token: sender))
        }
        let counts = views.map { view in view.leaders.filter { $0 == view.id }.count }
        note("parley: \(roomCount) rooms; partitions led by \(zip(views, counts).map { "\($0.id) \($1)" }.joined(separator: ", ")) of \(views[0].leaders.count)")
        var system = ParleySystem(
            httpURLs: httpURLs, loadBases: http1 ? httpURLs : h2cURLs, http1: http1, sender: sender, rooms: rooms,
            partitions: views[0].leaders.count)
        switch option("--placement", in: arguments) ?? "spread" {
        case "spread": break
        case "leader":
            // Room ids are random: more rooms are made until every node leads as many as its share.
            let share = max(1, roomCount / httpURLs.count)
            system.roomsByLeader = views.map { view in rooms.filter { view.leaders[roomPartition($0, of: system.partitions)] == view.id } }
            for attempt in 0..<500 where system.roomsByLeader.contains(where: { $0.count < share }) {
                let room = try await createRoom(httpURLs[attempt % httpURLs.count], name: "Bench extra \(attempt)", token: sender)
                let leader = views.firstIndex { $0.id == views[0].leaders[roomPartition(room, of: system.partitions)] }
                if let leader, system.roomsByLeader[leader].count < share { system.roomsByLeader[leader].append(room) }
            }
            system.roomsByLeader = system.roomsByLeader.map { Array($0.prefix(share)) }
            guard system.roomsByLeader.allSatisfy({ $0.count == share }) else {
                throw BenchError("--placement leader: no \(share) rooms on partitions each node leads in 500 more rooms")
            }
            note("parley: --placement leader: each node posts only to rooms on partitions it leads (\(system.roomsByLeader.map(\.count)) rooms)")
        case let other:
            throw BenchError("--placement takes spread or leader, not \(other)")
        }
        return system
    }

    /// Waits (at most 30 s) until the leaders every node agrees on have not changed for 3 s: at
    /// a fresh start elections race, and leaders that are not their partition's preferred
    /// replica hand their partitions over after two election timeouts, so measuring at once
    /// would time those hand-offs, not a cluster's steady state.
    static func steadyLeaders(
        _ urls: [String], from agreed: [(id: String, leaders: [String?])], client: HTTPClient
    ) async throws -> [(id: String, leaders: [String?])] {
        let deadline = ContinuousClock.now + .seconds(30)
        var views = agreed
        var since = ContinuousClock.now
        while ContinuousClock.now - since < .seconds(3) {
            guard ContinuousClock.now < deadline else {
                note("parley: leaders still moving after 30 s; measuring anyway")
                return views
            }
            try await Task.sleep(for: .milliseconds(200))
            let next = try await clusterViews(urls, client: client)
            let agreeing = agreeOnEveryLeader(next)
            if !agreeing || next[0].leaders != views[0].leaders { since = ContinuousClock.now }
            if agreeing { views = next }
        }
        return views
    }

    /// Whether every node names a leader for every partition, and all name the same ones.
    static func agreeOnEveryLeader(_ views: [(id: String, leaders: [String?])]) -> Bool {
        views.allSatisfy { $0.leaders.allSatisfy { $0 != nil } && $0.leaders == views[0].leaders }
    }

    /// The node leading the most partitions, and up to 4 fresh rooms on partitions it leads
    /// (created through the other nodes), of which the probes use one still led at the kill.
    func failoverPlan(client: HTTPClient) async throws -> FailoverPlan {
        let views = try await Self.clusterViews(httpURLs, client: client)
        let counts = views.map { view in view.leaders.filter { $0 == view.id }.count }
        guard let leader = counts.indices.max(by: { counts[$0] < counts[$1] }) else { throw BenchError("no nodes") }
        let led = Set(views[leader].leaders.indices.filter { views[leader].leaders[$0] == views[leader].id })
        let survivors = httpURLs.indices.filter { $0 != leader }
        var probeRooms: [String] = []
        for attempt in 0..<200 where probeRooms.count < 4 {
            let room = try await Self.createRoom(httpURLs[survivors[attempt % survivors.count]], name: "Probe \(attempt)", token: sender)
            if led.contains(roomPartition(room, of: partitions)) { probeRooms.append(room) }
        }
        guard !probeRooms.isEmpty else { throw BenchError("no room landed on a partition \(views[leader].id) leads in 200 tries") }
        note("parley: will kill \(views[leader].id), leader of \(led.count) partitions; \(probeRooms.count) probe rooms on its partitions")
        return plan(leader: leader, leaderID: views[leader].id, probeRooms: probeRooms)
    }

    /// Keeps one probe room whose partition the leader still leads, by its own view: the
    /// probes go to one partition, as etcd's go to its one group (like for like).
    func recheck(_ plan: FailoverPlan, client: HTTPClient) async throws -> FailoverPlan {
        let view = try await Self.clusterViews([httpURLs[plan.leader]], client: client)[0]
        let led = Set(view.leaders.indices.filter { view.leaders[$0] == view.id })
        let rooms = Set(plan.writeURLs.compactMap { $0.split(separator: "/").dropLast().last.map(String.init) })
        let kept = Array(rooms.filter { led.contains(roomPartition($0, of: partitions)) }.sorted().prefix(1))
        note("parley: \(view.id) leads \(led.count) partitions just before the kill; probing room \(kept.first ?? "none") on one of them")
        guard !kept.isEmpty else { throw BenchError("\(view.id) no longer leads any probe room's partition") }
        return self.plan(leader: plan.leader, leaderID: view.id, probeRooms: kept)
    }

    /// Probes post to `probeRooms` through the survivors in turn; settled once every
    /// survivor sees a survivor leading every partition.
    private func plan(leader: Int, leaderID: String, probeRooms: [String]) -> FailoverPlan {
        let survivors = httpURLs.enumerated().filter { $0.offset != leader }.map(\.element)
        var urls: [String] = []
        for (index, room) in probeRooms.enumerated() {
            for offset in survivors.indices { urls.append(survivors[(index + offset) % survivors.count] + "/v1/rooms/\(room)/messages") }
        }
        return FailoverPlan(
            leader: leader, writeURLs: urls, authorization: "Bearer \(sender)", body: { #"{"text":"failover probe \#($0)"}"# },
            settled: { client in
                guard let views = try? await Self.clusterViews(survivors, client: client) else { return false }
                return views.allSatisfy { view in view.leaders.allSatisfy { $0 != nil && $0 != leaderID } }
            })
    }

    /// Each node's id and its view of every partition's leader.
    static func clusterViews(_ urls: [String], client: HTTPClient) async throws -> [(id: String, leaders: [String?])] {
        var views: [(id: String, leaders: [String?])] = []
        for url in urls {
            let object = try await requestJSON(url + "/cluster", client: client, timeout: .seconds(5))
            guard let id = object["node_id"] as? String, let leaders = object["leaders"] as? [Any] else {
                throw BenchError("\(url)/cluster: no node_id or leaders")
            }
            views.append((id, leaders.map { $0 as? String }))
        }
        return views
    }

    static func createRoom(_ base: String, name: String, token: String) async throws -> String {
        let created = try await requestJSON(base + "/v1/rooms", token: token, body: #"{"name":"\#(name)"}"#)
        guard let id = created["id"] as? String else { throw BenchError("no room id in \(created)") }
        return id
    }
}

/// The partition of room `id` in a cluster of `partitions` partitions (placed by its entity
/// address, as the runtime places it).
func roomPartition(_ id: String, of partitions: Int) -> Int {
    Int(Partitioner(partitionCount: partitions).partition(for: EntityID.room(RoomID(unchecked: id)).description).rawValue)
}

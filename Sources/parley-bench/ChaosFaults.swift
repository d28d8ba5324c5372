import Foundation
import ParleyRaft
import ParleyTestKit

#if canImport(Glibc)
import Glibc
#endif

/// The fault loop: every 2–4 s (bounded count) one of: SIGKILL a random node, SIGKILL the
/// leader of the busiest written partition, SIGKILL two nodes at once, SIGSTOP a node for
/// 2–4 s, or a network fault for 2–4 s through the proxy (a node cut off both ways, a one-way
/// cut, a 2/3 split). Killed nodes are started again (same data directory and config) after
/// 1–3 s. The first seven faults are the seven kinds in a seeded order (a process fault, then a
/// network fault, in turn), then the kind is drawn. Each
/// fault is recorded once healed, with the written partitions its nodes led.
struct ChaosFaults: Sendable {
    let nodes: ChaosNodes
    let http: ChaosHTTP
    let ledger: ChaosLedger
    /// The partitions of the rooms written.
    let written: Set<Int>
    let seed: UInt64
    /// The peers' network, for faults without a hint.
    let proxy: FaultProxy

    static let kinds = ["kill-random", "kill-leader", "kill-two", "pause", "isolate", "one-way", "split"]
    /// Faults of the network: sockets stay open, nothing (or one direction) passes.
    static let networkKinds: Set<String> = ["isolate", "one-way", "split"]

    /// Injects faults until `deadline`; returns the nodes that could not be started again.
    func run(until deadline: ContinuousClock.Instant) async -> [String] {
        var random = SplitMix64(seed: seed)
        // Process faults and network faults in turn, each kind once, so that even a short run
        // meets both.
        let processes = Self.kinds.filter { !Self.networkKinds.contains($0) }.shuffled(using: &random)
        let networks = Self.kinds.filter(Self.networkKinds.contains).shuffled(using: &random)
        let order = processes.indices.flatMap { [processes[$0]] + (networks.indices.contains($0) ? [networks[$0]] : []) }
        for index in 0..<1_000 {
            let wait = Duration.milliseconds(Int.random(in: 2_000...4_000, using: &random))
            // Room after the fault for every partition it hit to be served again (and measured).
            guard ContinuousClock.now + wait + .seconds(10) < deadline else { break }
            do { try await Task.sleep(for: wait) } catch { break }
            let kind = index < order.count ? order[index] : Self.kinds.randomElement(using: &random)!
            let serving = nodes.ids.filter(nodes.isServing)
            guard serving.count == nodes.ids.count else {
                ledger.log("skipped a fault: not every node runs (\(serving.joined(separator: ",")))")
                continue
            }
            switch kind {
            case let kind where Self.networkKinds.contains(kind):
                await cutNetwork(kind, serving: serving, random: &random)
            case "pause":
                let target = serving.randomElement(using: &random)!
                let leaders = await leaderMap()
                let stop = Duration.milliseconds(Int.random(in: 2_000...4_000, using: &random))
                let majorities = majorities(of: led(by: [target], in: leaders), without: [target])
                let at = ledger.now()
                nodes.pause(target)
                ledger.log("SIGSTOP \(target) at \(rounded(at)) ms")
                try? await Task.sleep(for: stop)
                nodes.resume(target)
                ledger.record(
                    .init(kind: kind, nodes: [target], atMs: at, led: majorities, endedMs: ledger.now(), note: "stopped for \(milliseconds(stop)) ms"))
            default:
                let leaders = await leaderMap()
                var targets: [String]
                var note = ""
                switch kind {
                case "kill-two": targets = Array(serving.shuffled(using: &random).prefix(2))
                case "kill-leader":
                    // One of the three busiest written partitions (of the last 3 s) with a known leader.
                    let recent = ledger.recentAcks(withinMs: 3_000)
                    let ranked = written.filter { leaders[$0] != nil }.sorted { (recent[$0] ?? 0, $1) > (recent[$1] ?? 0, $0) }
                    let busiest = ranked.prefix(3).randomElement(using: &random)
                    if let busiest, let leader = leaders[busiest] {
                        targets = [leader]
                        note = "leader of p\(busiest) (\(recent[busiest] ?? 0) acks in 3 s)"
                    } else {
                        targets = [serving.randomElement(using: &random)!]
                        note = "no leader known: a random node"
                    }
                default: targets = [serving.randomElement(using: &random)!]
                }
                // The partitions the nodes led, and any other that loses its majority with them.
                let hit = Set(led(by: targets, in: leaders)).union(written.filter { partition in
                    nodes.file.replicas(of: partition).filter(targets.contains).count * 2 > nodes.file.replicas(of: partition).count
                })
                let majorities = majorities(of: Array(hit), without: targets)
                let details = [note, "pids \(targets.map { nodes.pid(of: $0) })"]
                let at = ledger.now()
                await nodes.kill(targets)
                ledger.log("SIGKILL \(targets.joined(separator: ",")) at \(rounded(at)) ms")
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1_000...3_000, using: &random)))
                var failed: [String] = []
                for target in targets {
                    do {
                        try await nodes.start(target)
                        ledger.log("restarted \(target) (pid \(nodes.pid(of: target))), listening at \(rounded(ledger.now())) ms")
                    } catch {
                        ledger.log("could not restart \(target): \(error)")
                        failed.append(target)
                    }
                }
                ledger.record(
                    .init(kind: kind, nodes: targets, atMs: at, led: majorities, endedMs: ledger.now(), note: details.filter { !$0.isEmpty }.joined(separator: "; ")))
                if !failed.isEmpty { return failed }
            }
        }
        return []
    }

    /// A network fault for 2–4 s: `isolate` cuts one node from every peer both ways, `one-way`
    /// only what it sends, `split` parts the nodes 2 against 3. The partitions hit are the
    /// written ones whose leader is cut from a majority of its replicas; the other side keeps
    /// one (it has at least two of three).
    private func cutNetwork(_ kind: String, serving: [String], random: inout SplitMix64) async {
        let leaders = await leaderMap()
        let shuffled = serving.shuffled(using: &random)
        let cut: [String]
        var links: [FaultProxy.Link] = []
        switch kind {
        case "split":
            cut = Array(shuffled.prefix(2))
            for a in cut { for b in serving where !cut.contains(b) { links += [.init(from: a, to: b), .init(from: b, to: a)] } }
        default:
            cut = [shuffled[0]]
            for other in serving where other != cut[0] {
                links.append(.init(from: cut[0], to: other))
                if kind == "isolate" { links.append(.init(from: other, to: cut[0])) }
            }
        }
        // A leader in `cut` whose replicas mostly lie outside it is cut from its majority.
        var majorities: [Int: Bool] = [:]
        for partition in written {
            guard let leader = leaders[partition], cut.contains(leader) else { continue }
            let replicas = nodes.file.replicas(of: partition)
            let inside = replicas.filter(cut.contains).count
            if inside * 2 <= replicas.count { majorities[partition] = true }
        }
        let stop = Duration.milliseconds(Int.random(in: 2_000...4_000, using: &random))
        let at = ledger.now()
        proxy.cut(links)
        ledger.log("network \(kind) \(cut.joined(separator: ",")) at \(rounded(at)) ms")
        try? await Task.sleep(for: stop)
        proxy.healAll()
        ledger.record(.init(kind: kind, nodes: cut, atMs: at, led: majorities, endedMs: ledger.now(), note: "for \(milliseconds(stop)) ms"))
    }

    /// Whether each of `partitions` keeps a majority of its replicas live and reachable
    /// without `targets`.
    func majorities(of partitions: [Int], without targets: [String]) -> [Int: Bool] {
        var majorities: [Int: Bool] = [:]
        for partition in partitions {
            let replicas = nodes.file.replicas(of: partition)
            let alive = replicas.filter { !targets.contains($0) && nodes.isServing($0) }
            majorities[partition] = alive.count * 2 > replicas.count
        }
        return majorities
    }

    /// The written partitions whose leader is one of `targets`.
    func led(by targets: [String], in leaders: [Int: String]) -> [Int] {
        written.filter { leaders[$0].map(targets.contains) ?? false }
    }

    /// Each partition's leader: the most common non-null answer among its serving replicas'
    /// `GET /cluster` "leaders" (a replica knows it from Raft; other nodes only keep a hint).
    func leaderMap() async -> [Int: String] {
        let views = await withTaskGroup(of: (String, [String?])?.self) { group in
            for node in nodes.ids where nodes.isServing(node) {
                group.addTask { (try? await http.leaders(seenBy: nodes.url(of: node), timeout: .milliseconds(800))).map { (node, $0) } }
            }
            var views: [String: [String?]] = [:]
            for await view in group { if let (node, leaders) = view { views[node] = leaders } }
            return views
        }
        var map: [Int: String] = [:]
        for partition in 0..<nodes.file.partitions {
            var votes: [String: Int] = [:]
            for replica in nodes.file.replicas(of: partition) {
                if let leader = views[replica]?[safe: partition] ?? nil { votes[leader, default: 0] += 1 }
            }
            map[partition] = votes.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        }
        return map
    }
}

extension ChaosHTTP {
    /// `GET /cluster` "leaders" of the node at `url`.
    func leaders(seenBy url: String, timeout: Duration) async throws -> [String?] {
        let (status, json) = try await call(url + "/cluster", timeout: timeout)
        guard status == 200, let leaders = json["leaders"] as? [Any] else { throw BenchError("\(url): GET /cluster answered \(status)") }
        return leaders.map { $0 as? String }
    }
}

import Foundation

/// Replica agreement after the chaos run: every replica of every partition, once at the same
/// applied index, must hold the same state (`GET /cluster/digests`). A difference is traced
/// to the keys that differ (`GET /cluster/partitions/{p}/records`).
struct ChaosReplicas: Sendable {
    let nodes: ChaosNodes
    let http: ChaosHTTP
    let adminToken: String

    struct Verdict {
        /// Partition replicas compared (each replica of each partition compared once).
        var compared = 0
        /// Replicas whose digest differs from the partition's first replica at the same index.
        var differing = 0
        /// Partitions whose replicas never stood at one applied index within the limit.
        var unsettled: [Int] = []
        var details: [String] = []
    }

    /// One node's digests: partition → (applied index, digest).
    private func digests(of node: String) async -> [Int: (index: UInt64, digest: String)]? {
        guard let (status, json) = try? await http.call(nodes.url(of: node) + "/cluster/digests", token: adminToken, timeout: .seconds(20)),
            status == 200, let partitions = json["partitions"] as? [[String: Any]]
        else { return nil }
        var result: [Int: (UInt64, String)] = [:]
        for entry in partitions {
            guard let partition = entry["partition"] as? Int, let index = (entry["applied_index"] as? NSNumber)?.uint64Value,
                let digest = entry["digest"] as? String
            else { continue }
            result[partition] = (index, digest)
        }
        return result
    }

    /// Asks every node, again and again (at most `limit`), until each partition's replicas
    /// report one applied index in the same round; compares their digests then.
    func compare(limit: Duration) async -> Verdict {
        var verdict = Verdict()
        var settled: [Int: [String: String]] = [:]  // partition → replica → digest
        let partitions = 0..<nodes.file.partitions
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, settled.count < partitions.count {
            let views = await withTaskGroup(of: (String, [Int: (index: UInt64, digest: String)]?).self) { group in
                for node in nodes.ids { group.addTask { (node, await digests(of: node)) } }
                var views: [String: [Int: (index: UInt64, digest: String)]] = [:]
                for await (node, view) in group { if let view { views[node] = view } }
                return views
            }
            for partition in partitions where settled[partition] == nil {
                let replicas = nodes.file.replicas(of: partition)
                let reports = replicas.compactMap { replica in views[replica]?[partition].map { (replica, $0) } }
                guard reports.count == replicas.count, Set(reports.map(\.1.index)).count == 1 else { continue }
                settled[partition] = Dictionary(uniqueKeysWithValues: reports.map { ($0.0, $0.1.digest) })
            }
            if settled.count < partitions.count { try? await Task.sleep(for: .milliseconds(500)) }
        }
        verdict.unsettled = partitions.filter { settled[$0] == nil }
        for (partition, digests) in settled.sorted(by: { $0.key < $1.key }) {
            let replicas = nodes.file.replicas(of: partition)
            verdict.compared += replicas.count
            let reference = digests[replicas[0]]
            let differing = replicas.dropFirst().filter { digests[$0] != reference }
            guard !differing.isEmpty else { continue }
            verdict.differing += differing.count
            verdict.details.append("p\(partition): \(differing) differ from \(replicas[0]) at the same applied index")
            verdict.details += await differingKeys(of: partition, between: replicas[0], and: differing)
        }
        return verdict
    }

    /// The keys whose presence or value differ between `reference` and each of `others`.
    private func differingKeys(of partition: Int, between reference: String, and others: [String]) async -> [String] {
        func records(_ node: String) async -> [String: String]? {
            guard let (status, json) = try? await http.call(
                nodes.url(of: node) + "/cluster/partitions/\(partition)/records", token: adminToken, timeout: .seconds(30)),
                status == 200, let list = json["records"] as? [[String: Any]]
            else { return nil }
            return Dictionary(list.compactMap { entry in (entry["key"] as? String).map { ($0, entry["value_sha256"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
        }
        guard let base = await records(reference) else { return ["p\(partition): \(reference)'s records could not be read"] }
        var lines: [String] = []
        for other in others {
            guard let theirs = await records(other) else {
                lines.append("p\(partition): \(other)'s records could not be read")
                continue
            }
            let keys = Set(base.keys).union(theirs.keys).filter { base[$0] != theirs[$0] }.sorted()
            let shown = keys.prefix(20).map { key in "\(key) (\(base[key] == nil ? "absent" : "value") on \(reference), \(theirs[key] == nil ? "absent" : "value") on \(other))" }
            lines.append("p\(partition): \(keys.count) keys differ between \(reference) and \(other): \(shown.joined(separator: "; "))")
        }
        return lines
    }
}

import Foundation

/// After the load: waits for the cluster to heal, reads every room from every node and
/// checks the histories against what was acknowledged.
struct ChaosCheck: Sendable {
    let nodes: ChaosNodes
    let http: ChaosHTTP

    /// One room's messages as one node returns them: (seq, text), oldest first.
    typealias History = [(seq: Int, text: String)]

    /// Waits (up to `limit`) until every node is ready and, for every partition, each of its
    /// replicas names the same leader, one of them. (Other nodes' `leaders` entries are hints
    /// learnt from the last refusal, corrected by the next one: not checked.) Returns nil
    /// when healed, else what was still missing.
    func waitHealed(limit: Duration) async -> String? {
        let start = ContinuousClock.now
        var missing = "nothing asked yet"
        var reported = start
        while ContinuousClock.now < start + limit {
            missing = await healthProblem() ?? ""
            if missing.isEmpty { return nil }
            if ContinuousClock.now - reported >= .seconds(5) {
                reported = .now
                note("chaos: healing for \(rounded(milliseconds(reported - start))) ms: \(missing)")
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return missing
    }

    private func healthProblem() async -> String? {
        var views: [String: [String?]] = [:]
        for node in nodes.ids {
            guard nodes.isServing(node) else { return "\(node) is not running" }
            guard let ready = try? await http.call(nodes.url(of: node) + "/ready", timeout: .seconds(2)), ready.status == 200 else {
                return "\(node) is not ready"
            }
            guard let view = try? await http.leaders(seenBy: nodes.url(of: node), timeout: .seconds(2)) else { return "\(node) does not answer GET /cluster" }
            views[node] = view
        }
        for partition in 0..<nodes.file.partitions {
            let replicas = nodes.file.replicas(of: partition)
            let named = Set(replicas.map { views[$0]?[safe: partition] ?? nil })
            guard named.count == 1, let leader = named.first ?? nil, replicas.contains(leader), nodes.isServing(leader) else {
                return "p\(partition): its replicas \(replicas) name leaders \(named.map { $0 ?? "none" }.sorted())"
            }
        }
        return nil
    }

    /// Every message of `room` as `node` returns it, paging with `after` (each page retried
    /// a few times).
    func history(of room: String, from node: String, token: String) async throws -> History {
        var messages: History = []
        var after = 0
        for _ in 0..<100_000 {
            var page: [[String: Any]]?
            var lastError = ""
            for attempt in 0..<8 where page == nil {
                if attempt > 0 { try await Task.sleep(for: .milliseconds(250 * attempt)) }
                do {
                    let (status, json) = try await http.call(
                        nodes.url(of: node) + "/v1/rooms/\(room)/messages?after=\(after)&limit=200", token: token, timeout: .seconds(10))
                    page = status == 200 ? json["messages"] as? [[String: Any]] : nil
                    lastError = "\(status) \(json)"
                } catch {
                    lastError = "\(error)"
                }
            }
            guard let page else { throw BenchError("reading room \(room) from \(node) after seq \(after): \(lastError)") }
            for message in page {
                guard let seq = message["seq"] as? Int, let text = message["text"] as? String else {
                    throw BenchError("room \(room) from \(node): a message without seq or text: \(message)")
                }
                messages.append((seq, text))
                after = max(after, seq)
            }
            if page.count < 200 { break }
        }
        return messages
    }

    /// The figures of the histories read, against what was acknowledged and attempted.
    struct Verdict {
        var lost = 0
        var duplicated = 0
        var orderMismatches = 0
        /// A sender's acknowledged post that precedes, in its room, one it had acknowledged
        /// before it (posts of one sender must keep their real-time order).
        var senderOrderViolations = 0
        /// Texts in a history that no sender ever attempted (or in another room).
        var phantom = 0
        /// Attempted, never acknowledged, but committed.
        var committedUnacked = 0
        var details: [String] = []
    }

    /// `histories[node][room]`.
    static func verify(histories: [String: [String: History]], acks: [ChaosLedger.Ack], attempted: [String: String], rooms: [String], nodes: [String])
        -> Verdict
    {
        var verdict = Verdict()
        let acknowledged = Set(acks.map(\.text))
        for room in rooms {
            let reference = histories[nodes[0]]?[room] ?? []
            var mismatch = false
            for node in nodes {
                let history = histories[node]?[room] ?? []
                if !history.enumerated().allSatisfy({ $0.element.seq == $0.offset + 1 }) {
                    mismatch = true
                    verdict.details.append("room \(room) on \(node): seqs are not 1…\(history.count) (first gap near \(Self.firstGap(history)))")
                }
                if !history.elementsEqual(reference, by: { $0.seq == $1.seq && $0.text == $1.text }) {
                    mismatch = true
                    verdict.details.append("room \(room): \(node) returns \(history.count) messages, \(nodes[0]) \(reference.count); first difference at index \(Self.firstDifference(history, reference))")
                }
            }
            // Counted once, in the reference history: every other node's was compared with it.
            var seen: [String: Int] = [:]
            for message in reference { seen[message.text, default: 0] += 1 }
            for (text, count) in seen where count > 1 {
                verdict.duplicated += count - 1
                verdict.details.append("room \(room) on \(nodes[0]): \"\(text)\" appears \(count) times")
            }
            if mismatch { verdict.orderMismatches += 1 }
            for message in reference {
                if attempted[message.text] != room {
                    verdict.phantom += 1
                    verdict.details.append("room \(room): seq \(message.seq) \"\(message.text)\" was never sent to this room")
                } else if !acknowledged.contains(message.text) {
                    verdict.committedUnacked += 1
                }
            }
        }
        for (sender, posts) in Dictionary(grouping: acks, by: \.sender) {
            var last: [String: (seq: Int, text: String)] = [:]
            for ack in posts.sorted(by: { $0.ackMs < $1.ackMs }) {
                if let before = last[ack.room], ack.seq <= before.seq {
                    verdict.senderOrderViolations += 1
                    verdict.details.append(
                        "sender \(sender): \"\(ack.text)\" acknowledged at \(rounded(ack.ackMs)) ms as seq \(ack.seq), after \"\(before.text)\" as seq \(before.seq)")
                }
                last[ack.room] = (ack.seq, ack.text)
            }
        }
        let bySeq = Dictionary(uniqueKeysWithValues: nodes.map { node in
            (node, (histories[node] ?? [:]).mapValues { history in Dictionary(history.map { ($0.seq, $0.text) }, uniquingKeysWith: { first, _ in first }) })
        })
        for ack in acks {
            let missing = nodes.filter { bySeq[$0]?[ack.room]?[ack.seq] != ack.text }
            if !missing.isEmpty {
                verdict.lost += 1
                verdict.details.append(
                    "lost: \"\(ack.text)\" acknowledged at \(rounded(ack.ackMs)) ms as seq \(ack.seq) of room \(ack.room) (p\(ack.partition)); not there on \(missing)")
            }
        }
        return verdict
    }

    static func firstGap(_ history: History) -> Int {
        history.enumerated().first { $0.element.seq != $0.offset + 1 }?.offset ?? history.count
    }

    static func firstDifference(_ a: History, _ b: History) -> Int {
        zip(a, b).enumerated().first { $0.element.0.seq != $0.element.1.seq || $0.element.0.text != $0.element.1.text }?.offset ?? min(a.count, b.count)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

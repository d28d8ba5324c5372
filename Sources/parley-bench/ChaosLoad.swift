import AsyncHTTPClient
import Foundation

/// The chaos test's writers: each sender posts to one room (sender `i` to room `i` modulo
/// the room count, so with more senders than rooms several write each room at once),
/// through the nodes in turn, every post with its own `Idempotency-Key`. A post that fails
/// or outlives its deadline is retried with the same key through the next node until it is
/// acknowledged or the load ends. A sender waits for each post's acknowledgement before the
/// next, so its acknowledged posts must appear in its room in the order acknowledged. A
/// partition that refuses writes (two of its replicas dead) holds up only its own rooms'
/// senders, and every partition that kept a majority goes on being written: its failover
/// shows in its writes.
struct ChaosSenders: Sendable {
    struct Room: Sendable {
        let id: String
        let partition: Int
    }

    let http: ChaosHTTP
    let nodeURLs: [String]
    let nodeIDs: [String]
    let ledger: ChaosLedger
    let rooms: [Room]
    /// One staff token per sender.
    let tokens: [String]
    let runID: String
    /// The deadline of one attempt (a node forwards to a leader for up to 5 s by default).
    let attemptTimeout: Duration

    /// Sender `sender`'s posts until `deadline` (an attempt under way then still finishes).
    func run(sender: Int, until deadline: ContinuousClock.Instant) async {
        let room = rooms[sender % rooms.count]
        for turn in 0..<10_000_000 {
            guard ContinuousClock.now < deadline else { break }
            let key = "chaos-\(runID)-s\(sender)-n\(turn)"
            let text = "\(key) from sender \(sender) to room \(room.id)"
            let body = #"{"text":"\#(text)"}"#
            ledger.attempt(text, room: room.id)
            let start = ledger.now()
            var acknowledged: Double?
            var attempt = 0
            while acknowledged == nil, ContinuousClock.now < deadline, attempt < 100_000 {
                let nodeIndex = (sender + turn + attempt) % nodeURLs.count
                let node = nodeURLs[nodeIndex]
                let attemptStart = ledger.now()
                var outcome = "acknowledged"
                do {
                    let (status, json) = try await http.call(
                        post: true, node + "/v1/rooms/\(room.id)/messages", token: tokens[sender], body: body,
                        headers: [("Idempotency-Key", key)], timeout: attemptTimeout)
                    if (200..<300).contains(status), let seq = json["seq"] as? Int, json["text"] as? String == text {
                        let ackMs = ledger.now()
                        ledger.acknowledge(
                            .init(
                                room: room.id, partition: room.partition, sender: sender, text: text, seq: seq, attemptStartMs: attemptStart, ackMs: ackMs,
                                postedAtMs: (json["posted_at"] as? String).flatMap(ledger.sinceStart(postedAt:)), replayed: status == 200))
                        acknowledged = ackMs
                    } else {
                        let code = ((json["error"] as? [String: Any])?["code"] as? String) ?? "no error code"
                        outcome = (200..<300).contains(status) ? "\(status) answer of another message" : "\(status) \(code)"
                        ledger.fail(outcome)
                    }
                } catch {
                    outcome = Self.describe(error)
                    ledger.fail(outcome)
                }
                let took = ledger.now() - attemptStart
                ledger.tried(.init(partition: room.partition, node: nodeIDs[nodeIndex], startMs: attemptStart, endMs: attemptStart + took, outcome: outcome))
                if took > milliseconds(attemptTimeout) + 1_000 {
                    ledger.log("sender \(sender): an attempt through \(nodeIDs[nodeIndex]) took \(rounded(took)) ms (deadline \(attemptTimeout))")
                }
                if acknowledged != nil { break }
                attempt += 1
                try? await Task.sleep(for: .milliseconds(min(10 * attempt, 100)))
            }
            ledger.finish(.init(partition: room.partition, startMs: start, endMs: acknowledged ?? ledger.now()))
        }
    }

    /// A transport failure, briefly.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded: return "deadline exceeded"
            case .remoteConnectionClosed: return "connection closed"
            case .connectTimeout: return "connect timeout"
            case .getConnectionFromPoolTimeout: return "no pooled connection within the connect timeout"
            default: break
            }
        }
        let text = "\(error)"
        if text.contains("refused") { return "connection refused" }
        if text.contains("reset") { return "connection reset" }
        return String(text.prefix(80))
    }
}

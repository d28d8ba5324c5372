import Foundation
import ParleyRaft
import Synchronization

/// The chaos test's visitors: each writes numbered messages (`cv-<run>-v<i>-n<k>`, the text
/// its own idempotency key) through the nodes in turn, each retried with the same key through
/// the next node until acknowledged or the load ends, one at a time. A message written when the
/// visitor has no open enquiry opens one (the first, and again after an agent closed the last).
struct ChaosVisitors: Sendable {
    struct Visitor: Sendable {
        let id: String
        let token: String
    }

    /// What each visitor wrote: every text in the order written, and which were acknowledged.
    final class Log: Sendable {
        struct Written: Sendable {
            let text: String
            var acknowledged: Bool
        }

        private let written: Mutex<[Int: [Written]]> = Mutex([:])
        private let failures = Mutex<[String: Int]>([:])

        func attempt(_ visitor: Int, _ text: String) { written.withLock { $0[visitor, default: []].append(Written(text: text, acknowledged: false)) } }

        /// The visitor's last attempt was acknowledged.
        func acknowledge(_ visitor: Int) {
            written.withLock { all in
                guard var list = all[visitor], !list.isEmpty else { return }
                list[list.count - 1].acknowledged = true
                all[visitor] = list
            }
        }

        func fail(_ reason: String) { failures.withLock { $0[reason, default: 0] += 1 } }

        var all: [Int: [Written]] { written.withLock { $0 } }
        var failed: [String: Int] { failures.withLock { $0 } }
    }

    let http: ChaosHTTP
    let urls: [String]
    let visitors: [Visitor]
    let runID: String
    let attemptTimeout: Duration
    let log = Log()

    /// The texts visitor `index` writes start with this.
    func prefix(of index: Int) -> String { "cv-\(runID)-v\(index)-n" }

    /// Visitor `index`'s messages until `deadline` (an attempt under way then still finishes).
    func run(visitor index: Int, until deadline: ContinuousClock.Instant) async {
        var random = SplitMix64(seed: UInt64(index) &* 0x2545_F491 &+ (UInt64(runID) ?? 1))
        for turn in 0..<1_000_000 {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { break }
            let text = prefix(of: index) + String(turn)
            log.attempt(index, text)
            for attempt in 0..<100_000 {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { break }
                let node = urls[(index + turn + attempt) % urls.count]
                do {
                    let (status, json) = try await http.call(
                        post: true, node + "/v1/visitor/messages", token: visitors[index].token, body: #"{"text":"\#(text)","idempotency_key":"\#(text)"}"#,
                        timeout: attemptTimeout)
                    if (200..<300).contains(status) {
                        log.acknowledge(index)
                        break
                    }
                    log.fail("\(status) " + (((json["error"] as? [String: Any])?["code"] as? String) ?? "without a code"))
                } catch {
                    log.fail(ChaosSenders.describe(error))
                }
                try? await Task.sleep(for: .milliseconds(min(20 * (attempt + 1), 200)))
            }
            try? await Task.sleep(for: .milliseconds(Int64(150 + random.next() % 300)))
        }
    }
}

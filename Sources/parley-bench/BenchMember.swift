import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HummingbirdWSClient
import Logging
import Synchronization

/// One room member's live session during the messages benchmark: it subscribes to the room,
/// notes when each probe message arrives, and ends when it sees the end marker.
struct BenchMember: Sendable {
    let token: String
    let liveURL: String
    let room: String

    static let probePrefix = "probe-"
    static let endMarker = "probe-end"

    /// What this member saw of each probe, by probe number, and how many events frames it
    /// read in all.
    struct Arrivals: Sendable {
        /// When the probe arrived here.
        var probes: [Int: ContinuousClock.Instant] = [:]
        /// Milliseconds from the node accepting the probe (its `posted_at`) to its arrival here.
        var sincePosted: [Int: Double] = [:]
        var frames = 0
    }

    /// Connects, subscribes, calls `ready` once the room's replay arrived, and returns what
    /// arrived when the end marker does (or when the task is cancelled).
    func run(ready: @escaping @Sendable () -> Void) async throws -> Arrivals {
        let arrivals = Mutex(Arrivals())
        let room = self.room
        try await WebSocketClient.connect(
            url: liveURL + "?access_token=" + token, configuration: .init(maxFrameSize: 1 << 22),
            logger: Logger(label: "bench-member")
        ) { inbound, outbound, _ in
            try await outbound.write(.text(#"{"type":"subscribe","rooms":{"\#(room)":0}}"#))
            var subscribed = false
            for try await message in inbound.messages(maxSize: 1 << 22) {
                guard case let .text(text) = message else { continue }
                let now = ContinuousClock.now
                let wallNow = Date()
                if !subscribed, Self.contains(text, #""type":"events""#) {
                    subscribed = true
                    ready()
                }
                arrivals.withLock { $0.frames += 1 }
                // Only frames that carry a probe are parsed; the load's frames are counted.
                guard Self.contains(text, Self.probePrefix) else { continue }
                var ended = false
                for (probe, postedAt) in Self.probes(in: text) {
                    guard probe >= 0 else {
                        ended = true
                        continue
                    }
                    let sincePosted = postedAt.map { wallNow.timeIntervalSince($0) * 1_000 }
                    arrivals.withLock {
                        $0.probes[probe] = now
                        $0.sincePosted[probe] = sincePosted
                    }
                }
                if ended { break }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return arrivals.withLock { $0 }
    }

    /// A plain byte search: the members read every frame of the load, so this stays cheap.
    static func contains(_ text: String, _ needle: String) -> Bool {
        var text = text
        var needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { pattern in
                guard let first = pattern.first, haystack.count >= pattern.count else { return false }
                var index = 0
                let last = haystack.count - pattern.count
                while index <= last {
                    if haystack[index] == first, memcmp(haystack.baseAddress! + index, pattern.baseAddress!, pattern.count) == 0 { return true }
                    index += 1
                }
                return false
            }
        }
    }

    /// The probe numbers posted in an `events` frame (-1 for the end marker), with the time
    /// the node accepted each.
    static func probes(in text: String) -> [(Int, Date?)] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let events = object["events"] as? [[String: Any]]
        else { return [] }
        return events.compactMap { event -> (Int, Date?)? in
            guard event["type"] as? String == "message.posted", let message = event["message"] as? [String: Any],
                let body = message["text"] as? String, body.hasPrefix(probePrefix),
                let probe = body == endMarker ? -1 : Int(body.dropFirst(probePrefix.count))
            else { return nil }
            let postedAt = (message["posted_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
            return (probe, postedAt)
        }
    }
}

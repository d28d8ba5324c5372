import Foundation
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

    /// Arrival instants of the probes this member received, by probe number, and how many
    /// events frames it read in all.
    struct Arrivals: Sendable {
        var probes: [Int: ContinuousClock.Instant] = [:]
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
                if !subscribed, text.contains(#""type":"events""#) {
                    subscribed = true
                    ready()
                }
                arrivals.withLock { $0.frames += 1 }
                // Only frames that carry a probe are parsed; the load's frames are counted.
                guard text.contains(Self.probePrefix) else { continue }
                var ended = false
                for probe in Self.probes(in: text) {
                    if probe < 0 { ended = true } else { arrivals.withLock { $0.probes[probe] = now } }
                }
                if ended { break }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return arrivals.withLock { $0 }
    }

    /// The probe numbers posted in an `events` frame; -1 for the end marker.
    static func probes(in text: String) -> [Int] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let events = object["events"] as? [[String: Any]]
        else { return [] }
        return events.compactMap { event -> Int? in
            guard event["type"] as? String == "message.posted", let message = event["message"] as? [String: Any],
                let body = message["text"] as? String, body.hasPrefix(probePrefix)
            else { return nil }
            return body == endMarker ? -1 : Int(body.dropFirst(probePrefix.count))
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HummingbirdWSClient
import Logging
import NIOCore
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
            var message = ByteBuffer()
            // Raw frames, not text messages: the members read every byte of the load, and
            // turning each frame into a String (UTF-8 validation) would cost more than the
            // search for probes.
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary: message = frame.data
                case .continuation: message.writeImmutableBuffer(frame.data)
                }
                guard frame.fin else { continue }
                let now = ContinuousClock.now
                let wallNow = Date()
                let (isEvents, probes) = message.withUnsafeReadableBytes { bytes in
                    (subscribed || Self.find(Self.eventsType, in: bytes) != nil, Self.probes(in: bytes))
                }
                if !subscribed, isEvents {
                    subscribed = true
                    ready()
                }
                arrivals.withLock { $0.frames += 1 }
                // Only the probes' own message objects are parsed; the load is only searched.
                var ended = false
                for (probe, postedAt) in probes {
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

    static let eventsType = Array(#""type":"events""#.utf8)
    static let probeText = Array(#""text":"probe-"#.utf8)
    static let probeWord = Array("probe-".utf8)
    static let messageKey = Array(#""message":{"#.utf8)

    /// Where `pattern` first occurs in `haystack` at or after `from` (memchr for its first
    /// byte, then memcmp).
    static func find(_ pattern: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard let base = haystack.baseAddress, let first = pattern.first else { return nil }
        var index = from
        while index + pattern.count <= haystack.count {
            guard let hit = memchr(base + index, Int32(first), haystack.count - pattern.count + 1 - index) else { return nil }
            index = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + index, pattern, pattern.count) == 0 { return index }
            index += 1
        }
        return nil
    }

    /// The probe numbers posted in an `events` frame (-1 for the end marker), with the time
    /// the node accepted each: each probe's `message` object alone is parsed.
    static func probes(in frame: UnsafeRawBufferPointer) -> [(Int, Date?)] {
        var found: [(Int, Date?)] = []
        var cursor = 0
        // "probe-" is rare in the load (a quote is everywhere): find it, then check its key.
        while let word = find(probeWord, in: frame, from: cursor) {
            cursor = word + probeWord.count
            let hit = word - (probeText.count - probeWord.count)
            guard hit >= 0, memcmp(frame.baseAddress! + hit, probeText, probeText.count) == 0 else { continue }
            // The message object holding this text: the nearest "message":{ before it, to
            // its matching brace (strings and escapes skipped).
            var start = hit
            func isMessageKey(_ at: Int) -> Bool {
                at + messageKey.count <= frame.count && memcmp(frame.baseAddress! + at, messageKey, messageKey.count) == 0
            }
            while start > 0, !isMessageKey(start) { start -= 1 }
            guard isMessageKey(start) else { continue }
            let open = start + messageKey.count - 1
            guard let close = matchingBrace(in: frame, open: open),
                let message = try? JSONSerialization.jsonObject(with: Data(frame[open...close])) as? [String: Any],
                let body = message["text"] as? String, body.hasPrefix(probePrefix),
                let probe = body == endMarker ? -1 : Int(body.dropFirst(probePrefix.count))
            else { continue }
            let postedAt = (message["posted_at"] as? String).flatMap { try? Date($0, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
            found.append((probe, postedAt))
            cursor = close
        }
        return found
    }

    static func matchingBrace(in bytes: UnsafeRawBufferPointer, open: Int) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for index in open..<bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x7B: depth += 1
            case 0x7D:
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
        }
        return nil
    }
}

import Foundation
import Logging

/// The node's log handler: one line per event on standard error, in swift-log's
/// `StreamLogHandler` format (`<time> <level> <label>: <metadata> [<source>] <message>`).
///
/// Unlike `StreamLogHandler`, which renders its metadata to text on every change, this one
/// renders it only when an event is logged. The HTTP server gives every request's logger a
/// request id, so eager rendering formatted an id per request that no line ever printed (2 %
/// of a node's CPU under load, at the default levels).
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = "\(Self.timestamp()) \(event.level)\(label.isEmpty ? "" : " ")\(label):"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        line += " [\(event.source)] \(event.message)\n"
        // One write per line: lines from several threads never interleave.
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Local time to the millisecond, with the UTC offset (`StreamLogHandler`'s form with
    /// milliseconds: a failover's events are a few hundred milliseconds apart).
    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var local = tm()
        guard localtime_r(&seconds, &local) != nil else { return "<unknown>" }
        var date = [CChar](repeating: 0, count: 32)
        var zone = [CChar](repeating: 0, count: 16)
        let dateLength = strftime(&date, date.count, "%Y-%m-%dT%H:%M:%S", &local)
        let zoneLength = strftime(&zone, zone.count, "%z", &local)
        let milliseconds = String(now.tv_nsec / 1_000_000)
        func text(_ chars: [CChar], _ length: Int) -> String { String(decoding: chars.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return text(date, dateLength) + "." + String(repeating: "0", count: 3 - milliseconds.count) + milliseconds + text(zone, zoneLength)
    }
}

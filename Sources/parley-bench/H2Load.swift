import Foundation

/// One h2load run and the figures read from its report and its per-request log.
struct H2LoadRun {
    /// Requests per second over the measured period (after the warm-up).
    var requestsPerSecond: Double
    /// The 99th percentile of the successful requests' latency.
    var p99Milliseconds: Double
    /// Every successful request's latency, in milliseconds (to merge runs made side by side).
    var latenciesMilliseconds: [Double] = []
    var succeeded: Int
    var failed: Int
    var non2xx: Int

    /// The settings both sides of a comparison share.
    struct Settings {
        var clients = 64
        var streamsPerClient = 1
        var threads = 1
        var seconds = 10
        var warmUpSeconds = 1
        /// HTTP/1.1 (`--h1`) rather than cleartext HTTP/2 (etcd's JSON gateway has no h2c).
        var http1 = false
    }

    /// Runs h2load against `url` (cleartext HTTP/2 with prior knowledge), posting `body` when
    /// given, and waits for it, bounded by the run's length plus a minute.
    static func run(url: String, settings: Settings, headers: [String] = [], body: String? = nil, workDirectory: String) async throws -> H2LoadRun {
        try await run(urls: [url], settings: settings, headers: headers, body: body, workDirectory: workDirectory)
    }

    /// As `run(url:…)`, requesting `urls` in turn (h2load takes them round robin; they share
    /// one scheme, host and port).
    static func run(urls: [String], settings: Settings, headers: [String] = [], body: String? = nil, workDirectory: String) async throws -> H2LoadRun {
        let logPath = workDirectory + "/h2load-\(UUID().uuidString).log"
        var arguments = [
            "-c", "\(settings.clients)", "-m", "\(settings.streamsPerClient)", "-t", "\(settings.threads)",
            "-D", "\(settings.seconds)", "--warm-up-time", "\(settings.warmUpSeconds)", "--log-file", logPath,
        ]
        if settings.http1 { arguments.append("--h1") }
        for header in headers { arguments += ["-H", header] }
        let bodyPath = workDirectory + "/h2load-body-\(UUID().uuidString).json"
        if let body {
            try Data(body.utf8).write(to: URL(fileURLWithPath: bodyPath))
            arguments += ["-d", bodyPath]
        }
        arguments += urls
        defer {
            try? FileManager.default.removeItem(atPath: logPath)
            try? FileManager.default.removeItem(atPath: bodyPath)
        }
        let output = try await runProcess("/usr/bin/h2load", arguments, limit: .seconds(settings.seconds + settings.warmUpSeconds + 60))
        var run = try parseReport(output)
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        run.latenciesMilliseconds = parseLatencies(log).map { $0 / 1_000 }
        run.p99Milliseconds = percentile(run.latenciesMilliseconds, 0.99)
        return run
    }

    /// `finished in 10.00s, 3456.70 req/s, …` and `requests: … N succeeded, N failed, …` and
    /// `status codes: N 2xx, N 3xx, N 4xx, N 5xx`.
    static func parseReport(_ output: String) throws -> H2LoadRun {
        func numbers(after prefix: String) -> [Double] {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return [] }
            return line.dropFirst(prefix.count).split(whereSeparator: { $0 == "," || $0 == " " })
                .compactMap { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "s"))) }
        }
        let finished = numbers(after: "finished in ")
        let requests = numbers(after: "requests: ")
        let statuses = numbers(after: "status codes: ")
        guard finished.count >= 2, requests.count >= 6, statuses.count >= 4 else {
            throw BenchError("h2load printed no report:\n\(output)")
        }
        // requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
        return H2LoadRun(
            requestsPerSecond: finished[1], p99Milliseconds: 0, succeeded: Int(requests[3]), failed: Int(requests[4]),
            non2xx: Int(statuses[1] + statuses[2] + statuses[3]))
    }

    /// Latencies in microseconds of the 2xx lines of h2load's log: `start\tstatus\tduration`.
    static func parseLatencies(_ log: String) -> [Double] {
        log.split(separator: "\n").compactMap { line -> Double? in
            let fields = line.split(separator: "\t")
            guard fields.count >= 3, let status = Int(fields[1]), (200..<300).contains(status) else { return nil }
            return Double(fields[2])
        }
    }
}

/// The `fraction` quantile (nearest rank) of `values`; 0 when there are none.
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    percentiles(values, [fraction])[0]
}

/// The `fractions` quantiles (nearest rank) of `values`, sorting them once; 0s when there are none.
func percentiles(_ values: [Double], _ fractions: [Double]) -> [Double] {
    guard !values.isEmpty else { return fractions.map { _ in 0 } }
    let sorted = values.sorted()
    return fractions.map { fraction in
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `executable` to completion and returns its standard output; stops it (SIGTERM, by its
/// own pid) if it outlives `limit`.
func runProcess(_ executable: String, _ arguments: [String], limit: Duration) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.standardError
    let exited = AsyncStream<Void>.makeStream()
    process.terminationHandler = { _ in exited.continuation.finish() }
    try process.run()
    let data = try await withThrowingTaskGroup(of: Data?.self) { group in
        group.addTask {
            // The blocking read runs on a thread of its own. Not on a Dispatch queue: on Linux
            // the cooperative pool is Dispatch's global queue, and three blocked reads (one
            // per h2load of a 3-node run) stalled every task of this process for ~1.9 s, until
            // Dispatch added threads: the first probe of every cluster run arrived that late.
            let data = await withCheckedContinuation { continuation in
                let reader = Thread { continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }
                reader.name = "parley-bench.h2load-output"
                reader.start()
            }
            for await _ in exited.stream {}
            return data
        }
        group.addTask {
            try await Task.sleep(for: limit)
            process.terminate()
            throw BenchError("\(executable) ran longer than \(limit)")
        }
        let data = try await group.next() ?? nil
        group.cancelAll()
        return data ?? Data()
    }
    guard process.terminationStatus == 0 else {
        throw BenchError("\(executable) exited with \(process.terminationStatus):\n\(String(decoding: data, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self)
}

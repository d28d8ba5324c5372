import Foundation

/// h2loads run side by side, one per node, merged into one run.
struct SpreadLoad: Sendable {
    var run: H2LoadRun
    /// Each node's requests per second.
    var perNode: [Double]
    var succeeded: Int { run.succeeded }
    var failed: Int { run.failed }
    var non2xx: Int { run.non2xx }

    /// One h2load per entry of `urlsByNode` (requesting that node's URLs in turn), side by
    /// side, with `settings.clients` spread over them; the merged run keeps each node's rate
    /// in node order and takes its p99 over every request of all of them.
    static func run(
        urlsByNode: [[String]], settings: H2LoadRun.Settings, headers: [String], body: String?, workDirectory: String
    ) async throws -> SpreadLoad {
        let nodes = urlsByNode.count
        let runs = try await withThrowingTaskGroup(of: (Int, H2LoadRun).self) { group in
            for (index, urls) in urlsByNode.enumerated() {
                var share = settings
                share.clients = settings.clients / nodes + (index < settings.clients % nodes ? 1 : 0)
                group.addTask {
                    (index, try await H2LoadRun.run(urls: urls, settings: share, headers: headers, body: body, workDirectory: workDirectory))
                }
            }
            var runs: [(Int, H2LoadRun)] = []
            for try await run in group { runs.append(run) }
            return runs.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let latencies = runs.flatMap(\.latenciesMilliseconds)
        let merged = H2LoadRun(
            requestsPerSecond: runs.map(\.requestsPerSecond).reduce(0, +), p99Milliseconds: percentile(latencies, 0.99),
            latenciesMilliseconds: latencies, succeeded: runs.map(\.succeeded).reduce(0, +), failed: runs.map(\.failed).reduce(0, +), non2xx: runs.map(\.non2xx).reduce(0, +))
        return SpreadLoad(run: merged, perNode: runs.map(\.requestsPerSecond))
    }
}

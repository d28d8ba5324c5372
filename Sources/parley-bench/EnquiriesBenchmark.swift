import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// `parley-bench enquiries --http URL,URL,URL --admin-token T [--staff N] [--rates R,…] [--step-seconds S]`:
/// a replicated cluster's enquiry path under a rising load. N staff (default 100) in groups of
/// five, one destination and one widget channel per group, each with a live session on a node
/// (spread), accept automatically: the first of a group whose session is offered an enquiry
/// accepts it on its node, subscribes to the enquiry room, and closes the enquiry once the
/// visitor's second message reaches its session. Visitors (made before each step) write their
/// first message through the nodes in turn at each rate for S seconds. Prints one JSON line for
/// the highest rate whose enquiries were served at that rate with `offer_p99_ms` <= 100 (the
/// first message's request to the offer on a staff session), or for the lowest rate if none
/// was; each step's figures go to stderr with where it saturated.
struct EnquiriesBenchmark {
    let urls: [String]
    let admin: String
    let staffCount: Int
    let rates: [Int]
    let stepSeconds: Int

    init(arguments: [String]) throws {
        guard let http = option("--http", in: arguments), let admin = option("--admin-token", in: arguments) else {
            throw BenchError("enquiries needs --http URL,… --admin-token T")
        }
        urls = http.split(separator: ",").map(String.init)
        self.admin = admin
        staffCount = max(5, (option("--staff", in: arguments).flatMap(Int.init) ?? 100) / 5 * 5)
        rates = (option("--rates", in: arguments) ?? "25,50,100,200,300,400,500").split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        stepSeconds = min(max(option("--step-seconds", in: arguments).flatMap(Int.init) ?? 5, 1), 60)
    }

    /// One group: its destination and channel, and its staff's indexes.
    struct Group {
        let channel: String
        let staff: [Int]
    }

    func run() async throws {
        let waiters = Waiters()
        let client = EnquiriesClient(threads: 1) { sighting in
            switch sighting {
            case let .offered(enquiry, staff, at, _): waiters.fire("offer:\(enquiry)", .init(at: at, staff: staff))
            case let .probe(number, at): waiters.fire("probe:\(number)", .init(at: at, staff: -1))
            case let .subscribed(room, staff): waiters.fire("sub:\(room):\(staff)", .init(at: .now, staff: staff))
            case let .refused(room, staff): waiters.fire("sub:\(room):\(staff)", .init(at: .now, staff: -1))
            case .notice, .closed: break
            }
        }
        defer { Task { try? await client.shutdown() } }
        var tokens: [String] = []
        for index in 0..<staffCount {
            let created = try await call(urls[0] + "/v1/staff", .POST, token: admin, body: #"{"id":"bs-\#(index)","display_name":"Bench Staff \#(index)"}"#)
            tokens.append(try created["token"] as? String ?? { throw BenchError("staff not created: \(created)") }())
            _ = try await call(urls[0] + "/v1/staff/bs-\(index)/capacity", .PUT, token: admin, body: #"{"capacity":100}"#)
        }
        var groups: [Group] = []
        for group in 0..<(staffCount / 5) {
            let members = (group * 5..<group * 5 + 5).map { "\"bs-\($0)\"" }.joined(separator: ",")
            let destination = try await call(urls[0] + "/v1/destinations", .POST, token: admin, body: #"{"name":"Group \#(group)","members":[\#(members)]}"#)
            let channel = try await call(urls[0] + "/v1/channels", .POST, token: admin, body: #"{"name":"Site \#(group)","kind":"widget"}"#)
            guard let destinationID = destination["id"] as? String, let channelID = channel["id"] as? String else { throw BenchError("setup failed") }
            _ = try await call(
                urls[0] + "/v1/channels/\(channelID)/settings", .PUT, token: admin,
                body: #"{"routing":{"rule":"alternative","destinations":["\#(destinationID)"]},"offer_timeout_seconds":60,"idle_close_minutes":0}"#)
            groups.append(Group(channel: channelID, staff: Array(group * 5..<group * 5 + 5)))
        }
        for (index, token) in tokens.enumerated() {
            let url = URL(string: urls[index % urls.count])!
            try await client.connect(index: index, host: url.host ?? "127.0.0.1", port: url.port ?? 80, token: token)
        }
        // Every node's routing board sees every staff member ACTIVE and online.
        let deadline = ContinuousClock.now + .seconds(30)
        for url in urls {
            for group in groups {
                while true {
                    let directory = try await call(url + "/v1/widget/\(group.channel)", .GET)
                    let staff = directory["staff"] as? [[String: Any]] ?? []
                    if staff.count == 5, staff.allSatisfy({ $0["availability"] as? String == "active" }) { break }
                    guard ContinuousClock.now < deadline else { throw BenchError("routing never saw every staff member online") }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        note("enquiries: \(staffCount) staff in \(groups.count) groups online on \(urls.count) nodes")

        var steps: [Step] = []
        var number = 0
        for rate in rates {
            let count = rate * stepSeconds
            let visitors = try await makeVisitors(count, groups: groups, from: number)
            let step = await runStep(rate: rate, visitors: visitors, first: number, tokens: tokens, client: client, waiters: waiters)
            number += count
            steps.append(step)
            note("enquiries: \(step.summary)")
            if step.servedRate < Double(rate) * 0.5 { break }
        }
        let good = steps.filter { $0.servedRate >= Double($0.rate) * 0.9 && $0.offerP99 <= 100 }.last ?? steps.first
        let saturated = steps.first { $0.servedRate < Double($0.rate) * 0.9 || $0.offerP99 > 100 }
        note("enquiries: saturates at \(saturated.map { "\($0.rate)/s offered (served \(Int($0.servedRate))/s, offer p99 \(Int($0.offerP99)) ms)" } ?? "none of the rates tried")")
        guard let good else { throw BenchError("no step ran") }
        printJSONLine([
            "enquiries_per_s": good.servedRate.rounded(), "offer_p99_ms": good.offerP99, "accept_p99_ms": good.acceptP99,
            "visitor_to_staff_p99_ms": good.visitorToStaffP99, "offer_p50_ms": good.offerP50, "rate_offered_per_s": Double(good.rate),
            "saturated_at_per_s": Double(saturated?.rate ?? 0), "staff": Double(staffCount), "nodes": Double(urls.count),
        ])
    }

    /// A visitor ready to write: its token, node and number.
    struct Visitor: Sendable {
        let id: String
        let token: String
        let node: Int
    }

    private func makeVisitors(_ count: Int, groups: [Group], from first: Int) async throws -> [Visitor] {
        try await withThrowingTaskGroup(of: Visitor.self) { group in
            var made: [Visitor] = []
            var next = 0
            func add() {
                let number = first + next
                let node = number % urls.count
                let channel = groups[number % groups.count].channel
                group.addTask {
                    let session = try await call(urls[node] + "/v1/visitor/sessions", .POST, body: #"{"channel_id":"\#(channel)","name":"Visitor \#(number)"}"#)
                    guard let id = session["visitor_id"] as? String, let token = session["token"] as? String else { throw BenchError("visitor not made") }
                    return Visitor(id: id, token: token, node: node)
                }
                next += 1
            }
            for _ in 0..<min(32, count) { add() }
            while let visitor = try await group.next() {
                made.append(visitor)
                if next < count { add() }
            }
            return made
        }
    }
}

/// Waits for sightings by key, with a deadline; a sighting before its waiter is kept (the
/// first one per key).
final class Waiters: Sendable {
    struct Sighted: Sendable {
        let at: ContinuousClock.Instant
        let staff: Int
    }

    private let state = Mutex<(values: [String: Sighted], waiters: [String: CheckedContinuation<Sighted?, Never>])>(([:], [:]))

    func fire(_ key: String, _ value: Sighted) {
        let waiter = state.withLock { state -> CheckedContinuation<Sighted?, Never>? in
            if let waiter = state.waiters.removeValue(forKey: key) { return waiter }
            if state.values[key] == nil { state.values[key] = value }
            return nil
        }
        waiter?.resume(returning: value)
    }

    /// Forgets what was seen under `key` (so a later wait sees only what comes next).
    func forget(_ key: String) { _ = state.withLock { $0.values.removeValue(forKey: key) } }

    func wait(_ key: String, timeout: Duration) async -> Sighted? {
        await withTaskGroup(of: Sighted?.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Sighted?, Never>) in
                        let ready = self.state.withLock { state -> Sighted?? in
                            if let value = state.values.removeValue(forKey: key) { return .some(value) }
                            if Task.isCancelled { return .some(nil) }
                            state.waiters[key] = continuation
                            return .none
                        }
                        if case let .some(value) = ready { continuation.resume(returning: value) }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { $0.waiters.removeValue(forKey: key) }
                    waiter?.resume(returning: nil)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

enum Method: String { case GET, POST, PUT }

/// A JSON request; throws on a status outside 2xx unless `accepting` it.
@discardableResult
func call(_ url: String, _ method: Method, token: String? = nil, body: String? = nil, accepting: Set<UInt> = []) async throws -> [String: Any] {
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method.rawValue)
    if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
    if let body {
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let data = try await response.body.collect(upTo: 4 << 20)
    let object = (try? JSONSerialization.jsonObject(with: Data(data.readableBytesView))) as? [String: Any] ?? [:]
    guard (200..<300).contains(response.status.code) || accepting.contains(response.status.code) else {
        throw BenchError("\(method) \(url): \(response.status.code) \(object)")
    }
    return object
}

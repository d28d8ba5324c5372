import Foundation
import NIOCore
import ParleyRaft
import Synchronization

/// The chaos test's staff side of enquiries: agents with a live session each (on node `i`
/// modulo the node count, and on the next node whenever theirs closes), who accept every
/// enquiry offered to them on their node, and while the load runs act on what they own (close
/// it, transfer it to another agent or to the second destination, or reply in its room) and
/// now and then go AWAY for 6 to 9 seconds. They log every offer they see (with the offer's
/// own time) and the spans they were AWAY (from the acknowledgement of AWAY to the request
/// for ACTIVE), so `ChaosEnquiryCheck` can find offers made to someone not offerable.
final class ChaosAgents: Sendable {
    enum Phase: Sendable, Equatable {
        /// Accepting, acting and going AWAY.
        case load
        /// Accepting only, every agent ACTIVE: the enquiries settle.
        case settle
        case stopped
    }

    /// An offer an agent's session received.
    struct Offer: Sendable {
        let agent: Int
        let enquiry: String
        /// The offer's own time (the enquiry's decision), in milliseconds since the load started.
        let offeredAtMs: Double?
        let receivedMs: Double
    }

    /// A span an agent was AWAY: from its acknowledgement to the request for ACTIVE (nil: still).
    struct AwaySpan: Sendable {
        let agent: Int
        let startMs: Double
        var endMs: Double?
    }

    struct State: Sendable {
        var phase = Phase.load
        var connected: [Bool]
        var owned: [Set<String>]
        var awayUntil: [ContinuousClock.Instant?]
        var offers: [Offer] = []
        var away: [AwaySpan] = []
        var counts: [String: Int] = [:]
    }

    let http: ChaosHTTP
    let urls: [String]
    let ledger: ChaosLedger
    /// One staff token per agent; agent `i` is `ids[i]`.
    let tokens: [String]
    let ids: [String]
    let secondDestination: String
    let attemptTimeout: Duration
    let seed: UInt64
    let state: Mutex<State>
    private let inboxes: [AsyncStream<EnquiriesClient.Sighting>]
    private let client: EnquiriesClient

    init(http: ChaosHTTP, urls: [String], ledger: ChaosLedger, tokens: [String], ids: [String], secondDestination: String, attemptTimeout: Duration, seed: UInt64) {
        self.http = http
        self.urls = urls
        self.ledger = ledger
        self.tokens = tokens
        self.ids = ids
        self.secondDestination = secondDestination
        self.attemptTimeout = attemptTimeout
        self.seed = seed
        state = Mutex(State(connected: Array(repeating: false, count: ids.count), owned: Array(repeating: [], count: ids.count), awayUntil: Array(repeating: nil, count: ids.count)))
        let streams = ids.map { _ in AsyncStream<EnquiriesClient.Sighting>.makeStream(bufferingPolicy: .bufferingNewest(10_000)) }
        inboxes = streams.map(\.stream)
        let continuations = streams.map(\.continuation)
        client = EnquiriesClient(threads: 1) { sighting in
            let agent: Int
            switch sighting {
            case let .offered(_, staff, _, _), let .notice(_, _, staff), let .closed(staff): agent = staff
            default: return
            }
            continuations[agent].yield(sighting)
        }
        self.finishInboxes = { for continuation in continuations { continuation.finish() } }
    }

    private let finishInboxes: @Sendable () -> Void

    /// Every agent until `stop()`.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for agent in ids.indices {
                group.addTask { await self.consume(agent) }
                group.addTask { await self.work(agent) }
            }
        }
        try? await client.shutdown()
    }

    /// From now on the agents only accept, and each goes ACTIVE again.
    func settle() { state.withLock { $0.phase = .settle } }

    func stop() {
        state.withLock { $0.phase = .stopped }
        finishInboxes()
    }

    var phase: Phase { state.withLock { $0.phase } }

    private func count(_ what: String) { state.withLock { $0.counts[what, default: 0] += 1 } }

    /// Agent `agent`'s notices: offers accepted, ownership followed, a closed session noted.
    private func consume(_ agent: Int) async {
        for await sighting in inboxes[agent] {
            switch sighting {
            case let .offered(enquiry, _, _, offeredAt):
                let offer = Offer(agent: agent, enquiry: enquiry, offeredAtMs: offeredAt.flatMap(ledger.sinceStart(postedAt:)), receivedMs: ledger.now())
                state.withLock { $0.offers.append(offer) }
                guard phase != .stopped else { continue }
                await accept(enquiry, agent: agent)
            case let .notice(type, enquiry, _):
                state.withLock { state in
                    if type == "enquiry.assigned" { state.owned[agent].insert(enquiry) }
                    if type == "enquiry.released" { state.owned[agent].remove(enquiry) }
                }
            case .closed:
                state.withLock { $0.connected[agent] = false }
                count("sessions closed")
            default: break
            }
        }
    }

    /// An accept through the agent's nodes, tried again through the next on a transport failure.
    private func accept(_ enquiry: String, agent: Int) async {
        for attempt in 0..<3 {
            let node = urls[(agent + attempt) % urls.count]
            do {
                let (status, json) = try await http.call(post: true, node + "/v1/enquiries/\(enquiry)/accept", token: tokens[agent], timeout: attemptTimeout)
                if status == 200 {
                    state.withLock { _ = $0.owned[agent].insert(enquiry) }
                    count("accepted")
                } else {
                    count("accept \(status) " + (((json["error"] as? [String: Any])?["code"] as? String) ?? "without a code"))
                }
                return
            } catch {
                count("accept failed: " + ChaosSenders.describe(error))
            }
        }
    }

    /// Agent `agent`'s session kept open, and its load: every tick (250 ms) a turn.
    private func work(_ agent: Int) async {
        var random = SplitMix64(seed: seed &+ UInt64(agent) &* 0x9E37_79B9)
        var reconnects = 0
        var nextAction = ContinuousClock.now + .milliseconds(500)
        var nextAway = ContinuousClock.now + .seconds(Int64(3 + random.next() % 6))
        for _ in 0..<2_000_000 {
            let phase = self.phase
            guard phase != .stopped, !Task.isCancelled else { break }
            if !state.withLock({ $0.connected[agent] }) {
                if await connect(agent, node: (agent + reconnects) % urls.count) {
                    state.withLock { $0.connected[agent] = true }
                } else {
                    reconnects += 1
                }
            }
            let now = ContinuousClock.now
            let awayUntil = state.withLock { $0.awayUntil[agent] }
            if let awayUntil, now >= awayUntil || phase != .load {
                await setActive(agent)
            } else if awayUntil == nil, phase == .load, now >= nextAway {
                // Longer than the board's status lifetime, so offers past it are a finding.
                let span = Int64(6_000 + random.next() % 3_000)
                await setAway(agent, for: .milliseconds(span))
                nextAway = now + .milliseconds(span) + .seconds(Int64(6 + random.next() % 8))
            }
            if phase == .load, now >= nextAction {
                await act(agent, random: &random)
                nextAction = now + .milliseconds(Int64(400 + random.next() % 800))
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Opens the agent's session on `node`; false when it could not within two seconds.
    private func connect(_ agent: Int, node: Int) async -> Bool {
        guard let url = URL(string: urls[node]) else { return false }
        let client = self.client
        let token = tokens[agent]
        let opened = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await client.connect(index: agent, host: url.host ?? "127.0.0.1", port: url.port ?? 80, token: token)
                    return true
                } catch {
                    return false
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        count(opened ? "sessions opened" : "session not opened")
        return opened
    }

    /// AWAY, noted from its acknowledgement; left as it was when no node acknowledged it.
    private func setAway(_ agent: Int, for span: Duration) async {
        guard await setAvailability("away", agent: agent) else { return }
        let acknowledged = ledger.now()
        state.withLock { state in
            state.away.append(AwaySpan(agent: agent, startMs: acknowledged))
            state.awayUntil[agent] = ContinuousClock.now + span
        }
        count("went away")
    }

    /// ACTIVE again: the AWAY span ends at the first request (an answer lost on the way still
    /// counts), and is requested again each turn until a node acknowledges it.
    private func setActive(_ agent: Int) async {
        let requested = ledger.now()
        state.withLock { state in
            if let last = state.away.lastIndex(where: { $0.agent == agent }), state.away[last].endMs == nil { state.away[last].endMs = requested }
        }
        if await setAvailability("active", agent: agent) { state.withLock { $0.awayUntil[agent] = nil } }
    }

    private func setAvailability(_ name: String, agent: Int) async -> Bool {
        for attempt in 0..<3 {
            let node = urls[(agent + attempt) % urls.count]
            if let answer = try? await http.call(
                put: true, node + "/v1/me/availability", token: tokens[agent], body: #"{"availability":"\#(name)"}"#, timeout: attemptTimeout),
                answer.status == 200
            {
                return true
            }
        }
        count("availability \(name) not acknowledged")
        return false
    }

    /// One action on an enquiry the agent owns: close it, transfer it, or reply in its room.
    private func act(_ agent: Int, random: inout SplitMix64) async {
        guard let enquiry = state.withLock({ $0.owned[agent].sorted().first }) else { return }
        let node = urls[Int(random.next() % UInt64(urls.count))]
        let roll = random.next() % 100
        let (what, path, body): (String, String, String?)
        switch roll {
        case 0..<35: (what, path, body) = ("close", "/v1/enquiries/\(enquiry)/close", nil)
        case 35..<55:
            let target = (agent + 1 + Int(random.next() % UInt64(ids.count - 1))) % ids.count
            (what, path, body) = ("transfer to staff", "/v1/enquiries/\(enquiry)/transfer", #"{"staff_id":"\#(ids[target])"}"#)
        case 55..<65: (what, path, body) = ("transfer to destination", "/v1/enquiries/\(enquiry)/transfer", #"{"destination_id":"\#(secondDestination)"}"#)
        default:
            let key = "ca-\(seed)-a\(agent)-\(random.next() % 1_000_000_000)"
            (what, path, body) = ("reply", "/v1/rooms/\(enquiry)/messages", #"{"text":"\#(key)","idempotency_key":"\#(key)"}"#)
        }
        do {
            let (status, json) = try await http.call(post: true, node + path, token: tokens[agent], body: body, timeout: attemptTimeout)
            if (200..<300).contains(status) {
                count(what)
                if what == "close" { state.withLock { _ = $0.owned[agent].remove(enquiry) } }
            } else {
                let code = ((json["error"] as? [String: Any])?["code"] as? String) ?? "without a code"
                count("\(what) \(status) \(code)")
                // Not theirs any more (closed by its idle timer, or taken by a transfer's target).
                if status == 403 || status == 409 || status == 404 { state.withLock { _ = $0.owned[agent].remove(enquiry) } }
            }
        } catch {
            count("\(what) failed: " + ChaosSenders.describe(error))
        }
    }

    /// Everything logged, once the agents stopped.
    var outcome: State { state.withLock { $0 } }
}

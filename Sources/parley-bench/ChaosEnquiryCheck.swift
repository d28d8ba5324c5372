import Foundation

/// After healing, the enquiries the chaos test's visitors opened: once every one is owned,
/// queued or closed (the agents accept meanwhile), each is read with its owner, every agent's
/// Open Enquiry panel is read, and every visitor's conversation is read from every node.
/// Passes when no enquiry is lost, none owned twice or by someone other than its owner, no
/// offer went to an agent AWAY for longer than the routing's status lifetime, and every
/// acknowledged visitor message is in its visitor's enquiry rooms exactly once, in the order
/// written, on every node.
struct ChaosEnquiryCheck {
    struct Enquiry {
        let id: String
        /// nil: no node knows it (lost).
        let status: String?
        let owner: String?
    }

    struct Verdict {
        var enquiries = 0
        var statuses: [String: Int] = [:]
        var lost = 0
        var unsettled = 0
        var ownedTwice = 0
        var ownerMismatches = 0
        var offers = 0
        var offersToUnavailable = 0
        /// Offers whose time could not be read (so could not be judged).
        var offersWithoutTime = 0
        /// AWAY spans that outlasted the grace (so offers in them would have been found).
        var awaySpansJudged = 0
        /// Visitors whose enquiries no node would list.
        var unreadableVisitors = 0
        var visitorMessages = 0
        var visitorLost = 0
        var visitorDuplicated = 0
        var visitorOrder = 0
        var phantom = 0
        var nodesDiffering = 0
        var details: [String] = []

        var passed: Bool {
            enquiries > 0 && offers > 0 && awaySpansJudged > 0 && offersWithoutTime == 0 && unreadableVisitors == 0 && lost == 0 && unsettled == 0
                && ownedTwice == 0 && ownerMismatches == 0 && offersToUnavailable == 0 && visitorLost == 0 && visitorDuplicated == 0 && visitorOrder == 0
                && phantom == 0 && nodesDiffering == 0
        }
    }

    /// How long after an acknowledged AWAY an offer may still go out: the routing board keeps a
    /// status it stops hearing for its lifetime (3 s), and a node may have renewed it just before.
    static let awayGraceMs = 3_500.0

    let http: ChaosHTTP
    let urls: [String]
    let nodeIDs: [String]
    let adminToken: String
    let visitors: ChaosVisitors
    let agents: ChaosAgents

    /// Waits (up to `limit`) until every enquiry is accepted, queued or closed and every panel
    /// agrees with its enquiries, then judges.
    func verify(limit: Duration) async -> Verdict {
        let deadline = ContinuousClock.now + limit
        var enquiries: [Enquiry] = []
        var unreadable: [String] = []
        var panels: [Int: Set<String>] = [:]
        for round in 0..<1_000 {
            if round > 0 { try? await Task.sleep(for: .seconds(1)) }
            (enquiries, unreadable) = await readEnquiries()
            panels = await readPanels()
            let settled = unreadable.isEmpty && enquiries.allSatisfy { ["accepted", "queued", "closed"].contains($0.status ?? "") }
            if settled, Self.ownership(enquiries, panels: panels, agentIDs: agents.ids).problems.isEmpty { break }
            guard ContinuousClock.now < deadline else { break }
        }
        var verdict = Verdict()
        verdict.enquiries = enquiries.count
        verdict.unreadableVisitors = unreadable.count
        verdict.details += unreadable.map { "no node listed visitor \($0)'s enquiries" }
        for enquiry in enquiries {
            verdict.statuses[enquiry.status ?? "lost", default: 0] += 1
            switch enquiry.status {
            case nil:
                verdict.lost += 1
                verdict.details.append("enquiry \(enquiry.id): no node knows it")
            case "accepted", "queued", "closed": break
            case let status?:
                verdict.unsettled += 1
                verdict.details.append("enquiry \(enquiry.id): still \(status) after healing")
            }
        }
        let ownership = Self.ownership(enquiries, panels: panels, agentIDs: agents.ids)
        verdict.ownedTwice = ownership.ownedTwice
        verdict.ownerMismatches = ownership.problems.count - ownership.ownedTwice
        verdict.details += ownership.problems
        judgeOffers(&verdict)
        await judgeMessages(&verdict)
        return verdict
    }

    /// Each accepted enquiry in exactly its owner's panel, and no other enquiry in any panel.
    static func ownership(_ enquiries: [Enquiry], panels: [Int: Set<String>], agentIDs: [String]) -> (problems: [String], ownedTwice: Int) {
        var holders: [String: [String]] = [:]
        for (agent, open) in panels { for enquiry in open { holders[enquiry, default: []].append(agentIDs[agent]) } }
        var problems: [String] = []
        var twice = 0
        for enquiry in enquiries {
            let listed = (holders[enquiry.id] ?? []).sorted()
            if listed.count > 1 {
                twice += 1
                problems.append("enquiry \(enquiry.id) (\(enquiry.status ?? "lost")) in the panels of \(listed)")
            } else if enquiry.status == "accepted", listed != [enquiry.owner ?? ""] {
                problems.append("enquiry \(enquiry.id) is owned by \(enquiry.owner ?? "nobody") but in the panels of \(listed)")
            } else if enquiry.status != "accepted", !listed.isEmpty {
                problems.append("enquiry \(enquiry.id) is \(enquiry.status ?? "lost") but in the panel of \(listed)")
            }
        }
        return (problems, twice)
    }

    /// Offers made to an agent AWAY for longer than the grace (its span from the acknowledged
    /// AWAY to the request for ACTIVE).
    private func judgeOffers(_ verdict: inout Verdict) {
        let outcome = agents.outcome
        verdict.offers = outcome.offers.count
        verdict.awaySpansJudged = outcome.away.filter { ($0.endMs ?? .infinity) - $0.startMs > Self.awayGraceMs }.count
        for offer in outcome.offers {
            guard let at = offer.offeredAtMs else {
                verdict.offersWithoutTime += 1
                verdict.details.append("\(agents.ids[offer.agent])'s offer of \(offer.enquiry) had no readable offered_at")
                continue
            }
            let away = outcome.away.first { span in
                span.agent == offer.agent && at >= span.startMs + Self.awayGraceMs && at < (span.endMs ?? .infinity)
            }
            if let away {
                verdict.offersToUnavailable += 1
                verdict.details.append(
                    "\(agents.ids[offer.agent]) was offered \(offer.enquiry) at \(rounded(at)) ms, AWAY since \(rounded(away.startMs)) ms (until \(away.endMs.map { "\(rounded($0)) ms" } ?? "the end"))")
            }
        }
    }

    /// Every visitor's messages from every node: each acknowledged one exactly once across
    /// their enquiry rooms and in the order written, no unacknowledged one twice, nothing
    /// nobody wrote, and every node answering the same.
    private func judgeMessages(_ verdict: inout Verdict) async {
        let written = visitors.log.all
        for (index, visitor) in visitors.visitors.enumerated() {
            let mine = written[index] ?? []
            let turns = Dictionary(uniqueKeysWithValues: mine.enumerated().map { ($0.element.text, ($0.offset, $0.element.acknowledged)) })
            verdict.visitorMessages += mine.filter(\.acknowledged).count
            var first: [String]?
            for (nodeIndex, url) in urls.enumerated() {
                guard let texts = await conversation(of: visitor, prefix: visitors.prefix(of: index), from: url) else {
                    verdict.nodesDiffering += 1
                    verdict.details.append("\(nodeIDs[nodeIndex]) did not answer visitor \(visitor.id)'s conversation")
                    continue
                }
                if let first, first != texts {
                    verdict.nodesDiffering += 1
                    verdict.details.append("visitor \(visitor.id): \(nodeIDs[nodeIndex]) answers \(texts.count) messages, \(nodeIDs[0]) \(first.count)")
                    continue
                }
                guard first == nil else { continue }
                first = texts
                var seen: [String: Int] = [:]
                var lastTurn = -1
                for text in texts {
                    seen[text, default: 0] += 1
                    guard let turn = turns[text]?.0 else {
                        verdict.phantom += 1
                        verdict.details.append("visitor \(visitor.id): \(text) was never written")
                        continue
                    }
                    if turn < lastTurn {
                        verdict.visitorOrder += 1
                        verdict.details.append("visitor \(visitor.id): \(text) after a later message")
                    }
                    lastTurn = max(lastTurn, turn)
                }
                for message in mine {
                    let times = seen[message.text] ?? 0
                    if message.acknowledged, times == 0 {
                        verdict.visitorLost += 1
                        verdict.details.append("visitor \(visitor.id): acknowledged \(message.text) is in none of their enquiries")
                    }
                    if times > 1 {
                        verdict.visitorDuplicated += 1
                        verdict.details.append("visitor \(visitor.id): \(message.text) is there \(times) times")
                    }
                }
            }
        }
    }

    /// The visitor's own messages (by `prefix`) in all their enquiries, oldest enquiry first;
    /// nil when the node did not answer.
    private func conversation(of visitor: ChaosVisitors.Visitor, prefix: String, from url: String) async -> [String]? {
        guard let count = await enquiryCount(of: visitor, from: url) else { return nil }
        var texts: [String] = []
        for number in stride(from: 1, through: count, by: 1) {
            var after = 0
            for _ in 0..<1_000 {
                guard let page = await get(url + "/v1/visitor/messages?enquiry_id=\(visitor.id)-\(number)&after=\(after)&limit=200", token: visitor.token),
                    let messages = page["messages"] as? [[String: Any]]
                else { return nil }
                for message in messages {
                    if let text = message["text"] as? String, message["sender"] as? String == "visitor", text.hasPrefix(prefix) { texts.append(text) }
                    after = max(after, message["seq"] as? Int ?? after)
                }
                if messages.count < 200 { break }
            }
        }
        return texts
    }

    /// How many enquiries the visitor opened: the number of their latest one (the conversation
    /// read without an enquiry id is the latest one's).
    private func enquiryCount(of visitor: ChaosVisitors.Visitor, from url: String) async -> Int? {
        guard let latest = await get(url + "/v1/visitor/messages?limit=1", token: visitor.token) else { return nil }
        guard let id = latest["enquiry_id"] as? String else { return 0 }
        return Int(id.dropFirst(visitor.id.count + 1))
    }

    /// Every visitor's enquiries, and the visitors no node would list (tried on each in turn).
    private func readEnquiries() async -> (enquiries: [Enquiry], unreadable: [String]) {
        var enquiries: [Enquiry] = []
        var unreadable: [String] = []
        for (index, visitor) in visitors.visitors.enumerated() {
            let url = urls[index % urls.count]
            var found: Int?
            for attempt in 0..<urls.count where found == nil { found = await enquiryCount(of: visitor, from: urls[(index + attempt) % urls.count]) }
            guard let count = found else {
                unreadable.append(visitor.id)
                continue
            }
            for number in stride(from: 1, through: count, by: 1) {
                let id = "\(visitor.id)-\(number)"
                let state = await get(url + "/v1/enquiries/\(id)", token: adminToken)
                enquiries.append(Enquiry(id: id, status: state?["status"] as? String, owner: state?["owner"] as? String))
            }
        }
        return (enquiries, unreadable)
    }

    private func readPanels() async -> [Int: Set<String>] {
        var panels: [Int: Set<String>] = [:]
        for agent in agents.ids.indices {
            let panel = await get(urls[agent % urls.count] + "/v1/me/enquiries", token: agents.tokens[agent])
            panels[agent] = Set(panel?["open"] as? [String] ?? [])
        }
        return panels
    }

    /// A GET answered 200 (tried three times, through the nodes in turn); nil otherwise.
    private func get(_ url: String, token: String) async -> [String: Any]? {
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(200)) }
            if let answer = try? await http.call(url, token: token, timeout: .seconds(10)), answer.status == 200 { return answer.json }
        }
        return nil
    }
}

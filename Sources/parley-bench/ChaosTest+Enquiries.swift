import Foundation

/// The chaos test's enquiry part: agents (capacity two each) in two destinations, a widget
/// channel routing to the first (Alternative, a 10 s offer timeout), and visitors writing to it
/// while the faults run.
extension ChaosTest {
    struct EnquiryLoad {
        let agents: ChaosAgents
        let visitors: ChaosVisitors
        let channel: String
    }

    /// The agents' accounts and tokens, the second destination, the channel and the visitors.
    struct EnquirySetup {
        let ids: [String]
        let tokens: [String]
        let secondDestination: String
        let channel: String
        let visitors: [ChaosVisitors.Visitor]

        func load(_ test: ChaosTest, http: ChaosHTTP, urls: [String], ledger: ChaosLedger) -> EnquiryLoad {
            let agents = ChaosAgents(
                http: http, urls: urls, ledger: ledger, tokens: tokens, ids: ids, secondDestination: secondDestination, attemptTimeout: test.attemptTimeout,
                seed: test.seed)
            let writers = ChaosVisitors(http: http, urls: urls, visitors: visitors, runID: String(test.seed), attemptTimeout: test.attemptTimeout)
            return EnquiryLoad(agents: agents, visitors: writers, channel: channel)
        }
    }

    /// Made before any fault: the agents, the destinations, the channel and the visitors'
    /// sessions (the agents' own sessions open when they run; see `waitOnline`).
    func setUpEnquiries(_ http: ChaosHTTP, urls: [String], adminToken: String) async throws -> EnquirySetup {
        var tokens: [String] = []
        let ids = (0..<agentCount).map { "chaos-agent-\($0)" }
        for (index, id) in ids.enumerated() {
            tokens.append(try await createStaff(http, urls[index % urls.count], id: id, name: "Agent \(index)", adminToken: adminToken))
            // Two at a time: with more visitors than the agents hold, enquiries queue too.
            _ = try await setupCall(http, urls[index % urls.count] + "/v1/staff/\(id)/capacity", token: adminToken, put: true, body: #"{"capacity":2}"#)
        }
        func quoted(_ ids: ArraySlice<String>) -> String { ids.map { "\"\($0)\"" }.joined(separator: ",") }
        let desk = try await setupCall(http, urls[0] + "/v1/destinations", token: adminToken, body: #"{"name":"Chaos desk","members":[\#(quoted(ids[...]))]}"#)
        let second = try await setupCall(
            http, urls[1 % urls.count] + "/v1/destinations", token: adminToken, body: #"{"name":"Chaos second line","members":[\#(quoted(ids.prefix(max(1, ids.count / 2))))]}"#)
        let channel = try await setupCall(http, urls[2 % urls.count] + "/v1/channels", token: adminToken, body: #"{"name":"Chaos site","kind":"widget"}"#)
        guard let deskID = desk["id"] as? String, let secondID = second["id"] as? String, let channelID = channel["id"] as? String else {
            throw BenchError("enquiry setup failed: \(desk) \(second) \(channel)")
        }
        _ = try await setupCall(
            http, urls[0] + "/v1/channels/\(channelID)/settings", token: adminToken, put: true,
            body: #"{"routing":{"rule":"alternative","destinations":["\#(deskID)"]},"offer_timeout_seconds":10,"idle_close_minutes":0}"#)
        var visitors: [ChaosVisitors.Visitor] = []
        for index in 0..<visitorCount {
            let session = try await setupCall(
                http, urls[index % urls.count] + "/v1/visitor/sessions", token: nil, body: #"{"channel_id":"\#(channelID)","name":"Chaos visitor \#(index)"}"#)
            guard let id = session["visitor_id"] as? String, let token = session["token"] as? String else { throw BenchError("no visitor session: \(session)") }
            visitors.append(.init(id: id, token: token))
        }
        return EnquirySetup(ids: ids, tokens: tokens, secondDestination: secondID, channel: channelID, visitors: visitors)
    }

    /// Until every node's widget directory shows every agent ACTIVE (their sessions are open).
    func waitOnline(_ load: EnquiryLoad, http: ChaosHTTP, urls: [String], limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        for url in urls {
            for round in 0..<10_000 {
                if round > 0 { try await Task.sleep(for: .milliseconds(200)) }
                let directory = try? await http.call(url + "/v1/widget/\(load.channel)", timeout: .seconds(5))
                let staff = directory?.json["staff"] as? [[String: Any]] ?? []
                if staff.count == load.agents.ids.count, staff.allSatisfy({ $0["availability"] as? String == "active" }) { break }
                guard ContinuousClock.now < deadline else { throw BenchError("the routing on \(url) never saw every agent online: \(staff)") }
            }
        }
    }

    /// The verdict's figures, for the JSON line.
    static func enquiryFields(_ verdict: ChaosEnquiryCheck.Verdict) -> String {
        "\"enquiries\":\(verdict.enquiries),\"enquiries_accepted\":\(verdict.statuses["accepted"] ?? 0),\"enquiries_queued\":\(verdict.statuses["queued"] ?? 0),"
            + "\"enquiries_closed\":\(verdict.statuses["closed"] ?? 0),\"enquiries_lost\":\(verdict.lost),\"enquiries_unsettled\":\(verdict.unsettled),"
            + "\"enquiries_owned_twice\":\(verdict.ownedTwice),\"owner_mismatches\":\(verdict.ownerMismatches),\"offers\":\(verdict.offers),"
            + "\"offers_to_unavailable\":\(verdict.offersToUnavailable),\"visitor_messages\":\(verdict.visitorMessages),"
            + "\"visitor_messages_lost\":\(verdict.visitorLost),\"visitor_messages_duplicated\":\(verdict.visitorDuplicated),"
            + "\"visitor_messages_out_of_order\":\(verdict.visitorOrder),\"visitor_messages_never_written\":\(verdict.phantom),"
            + "\"conversations_differing\":\(verdict.nodesDiffering),\"away_spans_judged\":\(verdict.awaySpansJudged)"
    }
}

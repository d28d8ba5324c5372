import Foundation
import NIOCore
import Synchronization

@testable import ParleyGateway

/// The overview's CSV quoting, reached from the tests.
enum OverviewRowCSV {
    static func field(_ value: String) -> String { OverviewRow.csvField(value) }
}
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSTesting
import Testing

/// The first-enquiry walk-through over HTTP: a widget channel with routing settings, a
/// visitor session, the visitor's first message, the offer on a staff session, accept, the
/// conversation both ways, close, and the next enquiry.
@Suite("Enquiries over the API", .timeLimit(.minutes(1)))
struct EnquiryAPITests {
    /// Admin setup: staff `ann` (and `bob`), a destination of them, a widget channel routed
    /// to it with welcome and away messages. Returns (ann's token, bob's token, channel id, destination id).
    func setUp(_ client: any TestClientProtocol, displayName: String = "full_name") async throws -> (String, String, String, String) {
        let ann = try await client.staffToken("ann", name: "Ann Lee")
        let bob = try await client.staffToken("bob", name: "Bob Ng")
        let destination = try await client.call("/v1/destinations", .post, json: #"{"name":"Support","members":["ann","bob"]}"#)
        #expect(destination.status == .created)
        let destinationID = try #require(destination.json["id"] as? String)
        let channel = try await client.call("/v1/channels", .post, json: #"{"name":"Website","kind":"widget"}"#)
        let channelID = try #require(channel.json["id"] as? String)
        let settings = try await client.call(
            "/v1/channels/\(channelID)/settings", .put,
            json: #"{"routing":{"rule":"alternative","destinations":["\#(destinationID)"]},"welcome_message":"Welcome!","away_message":"We are away","display_name":"\#(displayName)"}"#)
        #expect(settings.status == .ok, "\(settings.json)")
        #expect((settings.json["routing"] as? [String: Any])?["rule"] as? String == "alternative")
        // Routing learns a new destination from its listing within a second (the node reads it
        // every `listingRefresh`): until then an enquiry would wait unassigned, not in its queue.
        let known = ContinuousClock.now + .seconds(10)
        var listed = false
        while !listed, ContinuousClock.now < known {
            let widget = try await client.call("/v1/widget/\(channelID)", .get, token: nil)
            listed = (widget.json["destinations"] as? [[String: Any]])?.contains { $0["id"] as? String == destinationID } == true
            if !listed { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(listed, "routing never learnt the destination")
        return (ann, bob, channelID, destinationID)
    }

    func visitorToken(_ client: any TestClientProtocol, channel: String) async throws -> String {
        let session = try await client.call(
            "/v1/visitor/sessions", .post, token: nil,
            json: #"{"channel_id":"\#(channel)","name":"Vera","utm":{"utm_source":"ad"},"device":{"platform":"web","user_agent":"test"}}"#)
        #expect(session.status == .created, "\(session.json)")
        return try #require(session.json["token"] as? String)
    }

    @Test(arguments: Transport.allCases)
    func aQueuedEnquiryIsPickedUpAnsweredClosedAndTheNextOneOpens(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let (ann, _, channel, destination) = try await setUp(client, displayName: "first_name")
            let vera = try await visitorToken(client, channel: channel)
            // Nobody is online: the enquiry waits in the queue, and the away message is sent once.
            let first = try await client.call("/v1/visitor/messages", .post, token: vera, json: #"{"text":"Hello?"}"#)
            #expect(first.status == .created, "\(first.json)")
            let enquiry = try #require((first.json["enquiry"] as? [String: Any])?["enquiry_id"] as? String)
            let queued = try await client.eventually("/v1/visitor", token: vera) { ($0["enquiry"] as? [String: Any])?["status"] as? String == "queued" }
            #expect((queued["enquiry"] as? [String: Any])?["queue_position"] as? Int == 1)
            let waiting = try await client.eventually("/v1/visitor/messages", token: vera) { ($0["messages"] as? [Any])?.count == 3 }
            #expect((waiting["messages"] as? [[String: Any]])?.map { $0["text"] as? String } == ["Hello?", "Welcome!", "We are away"])
            #expect((waiting["messages"] as? [[String: Any]])?.map { $0["sender"] as? String } == ["visitor", "system", "system"])
            // A member of the destination picks it up from the queue.
            let accepted = try await client.call("/v1/enquiries/\(enquiry)/accept", .post, token: ann)
            #expect(accepted.status == .ok && accepted.json["owner"] as? String == "ann" && accepted.json["destination_id"] as? String == destination)
            let again = try await client.call("/v1/enquiries/\(enquiry)/accept", .post, token: ann)
            #expect(again.status == .ok, "accepting again what one owns answers it unchanged")
            // Ann joined the room, with the conversation so far; she answers.
            let room = try #require(accepted.json["room_id"] as? String)
            _ = try await client.eventually("/v1/rooms/\(room)", token: ann) { ($0["members"] as? [String])?.contains("ann") == true }
            let reply = try await client.call("/v1/rooms/\(room)/messages", .post, token: ann, json: #"{"text":"Hi Vera, how can I help?"}"#)
            #expect(reply.status == .created)
            let conversation = try await client.eventually("/v1/visitor/messages", token: vera) { ($0["messages"] as? [Any])?.count == 4 }
            let last = (conversation["messages"] as? [[String: Any]])?.last
            #expect(last?["author_name"] as? String == "Ann" && last?["sender"] as? String == "staff", "first names only, as the channel says")
            let me = try await client.call("/v1/visitor", .get, token: vera)
            #expect((me.json["enquiry"] as? [String: Any])?["staff_name"] as? String == "Ann")
            // The visitor writes on; it reaches the room.
            _ = try await client.call("/v1/visitor/messages", .post, token: vera, json: #"{"text":"My order is late"}"#)
            _ = try await client.eventually("/v1/rooms/\(room)/messages", token: ann) { ($0["messages"] as? [[String: Any]])?.last?["text"] as? String == "My order is late" }
            // Closed: the next message opens a new enquiry, offered to Ann first by nobody (she is offline) but queued.
            let closed = try await client.call("/v1/enquiries/\(enquiry)/close", .post, token: ann)
            #expect(closed.status == .ok && closed.json["status"] as? String == "closed")
            let refused = try await client.call("/v1/rooms/\(room)/messages", .get, token: nil)
            #expect(refused.status == .unauthorized)
            _ = try await client.eventually("/v1/visitor", token: vera) { $0["enquiry"] == nil }
            let next = try await client.call("/v1/visitor/messages", .post, token: vera, json: #"{"text":"One more thing"}"#)
            let nextID = (next.json["enquiry"] as? [String: Any])?["enquiry_id"] as? String
            #expect(nextID != nil && nextID != enquiry)
        }
    }

    @Test func anOfferReachesTheStaffSessionAndTheOthersSeeItTaken() async throws {
        try await withNode(.live) { client in
            let (ann, bob, channel, _) = try await setUp(client)
            let enquiryID = Mutex<String?>(nil)
            try await client.ws("/v1/live?access_token=\(ann)") { annInbound, annOutbound, _ in
                var annReader = MessageReader(annInbound)
                _ = try await annReader.next()
                try await client.ws("/v1/live?access_token=\(bob)") { bobInbound, bobOutbound, _ in
                    var bobReader = MessageReader(bobInbound)
                    _ = try await bobReader.next()
                    // Both online and ACTIVE: wait until routing sees them (within a second or so).
                    _ = try await client.eventually("/v1/widget/\(channel)", token: nil) { directory in
                        (directory["staff"] as? [[String: Any]])?.allSatisfy { $0["availability"] as? String == "active" } == true
                    }
                    let vera = try await visitorToken(client, channel: channel)
                    let first = try await client.call("/v1/visitor/messages", .post, token: vera, json: #"{"text":"Anyone?"}"#)
                    let enquiry = try #require((first.json["enquiry"] as? [String: Any])?["enquiry_id"] as? String)
                    enquiryID.withLock { $0 = enquiry }
                    let offered = try await bobReader.next(ofType: "enquiry.offered")
                    #expect((offered["enquiry"] as? [String: Any])?["first_message"] as? String == "Anyone?")
                    let panel = try await client.call("/v1/me/enquiries", .get, token: bob)
                    #expect((panel.json["offered"] as? [[String: Any]])?.first?["enquiry_id"] as? String == enquiry)
                    #expect(try await client.call("/v1/enquiries/\(enquiry)/accept", .post, token: bob).status == .ok)
                    let lost = try await client.call("/v1/enquiries/\(enquiry)/accept", .post, token: ann)
                    #expect(lost.status == .conflict && lost.json.errorCode == "enquiry_taken")
                    #expect(try await bobReader.next(ofType: "enquiry.assigned")["enquiry_id"] as? String == enquiry)
                    // The visitor's own WebSocket: the conversation replayed, then Bob's answer live.
                    try await client.ws("/v1/visitor/live?access_token=\(vera)") { inbound, outbound, _ in
                        var reader = MessageReader(inbound)
                        _ = try await reader.next()
                        try await outbound.writeTextMessage(#"{"type":"subscribe","rooms":{"\#(enquiry)":0}}"#)
                        let replay = try await reader.next(ofType: "events")
                        let texts = (replay["events"] as? [[String: Any]])?.compactMap { ($0["message"] as? [String: Any])?["text"] as? String }
                        #expect(texts?.first == "Anyone?")
                        _ = try await client.eventually("/v1/rooms/\(enquiry)", token: bob) { ($0["members"] as? [String])?.contains("bob") == true }
                        _ = try await client.call("/v1/rooms/\(enquiry)/messages", .post, token: bob, json: #"{"text":"Bob here"}"#)
                        var live: [String] = []
                        for _ in 0..<10 where !live.contains("Bob here") {
                            let events = try await reader.next(ofType: "events")
                            live += (events["events"] as? [[String: Any]])?.compactMap { ($0["message"] as? [String: Any])?["text"] as? String } ?? []
                        }
                        #expect(live.contains("Bob here"))
                        // Another enquiry's room is not the visitor's to follow.
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    let plain = try await client.call("/v1/visitor/live", .get, token: vera)
                    #expect(plain.status == .upgradeRequired)
                    try await bobOutbound.close(.normalClosure, reason: nil)
                }
                let enquiry = enquiryID.withLock { $0 }
                let offered = try await annReader.next(ofType: "enquiry.offered")
                #expect((offered["enquiry"] as? [String: Any])?["enquiry_id"] as? String == enquiry)
                #expect(try await annReader.next(ofType: "enquiry.taken")["enquiry_id"] as? String == enquiry)
                try await annOutbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func theOverviewListsCountsExportsAndDownloadsHistory() async throws {
        try await withNode(.inMemory) { client in
            let (ann, _, channel, _) = try await setUp(client)
            for name in ["one", "two"] {
                let visitor = try await visitorToken(client, channel: channel)
                _ = try await client.call("/v1/visitor/messages", .post, token: visitor, json: #"{"text":"Hello from \#(name)"}"#)
            }
            let listed = try await client.eventually("/v1/enquiries", token: testToken) { ($0["enquiries"] as? [Any])?.count == 2 }
            #expect((listed["counts"] as? [String: Any])?["queued"] as? Int == 2)
            let first = try #require((listed["enquiries"] as? [[String: Any]])?.first?["enquiry_id"] as? String)
            let accepted = try await client.call("/v1/enquiries/\(first)/accept", .post, token: ann)
            #expect(accepted.status == .ok, "\(accepted.json)")
            // The accept answers once the winner can write in the enquiry room.
            #expect(try await client.call("/v1/rooms/\(first)/messages", .post, token: ann, json: #"{"text":"=SUM(A1) hi, \"quoted\""}"#).status == .created)
            _ = try await client.call("/v1/enquiries/\(first)/close", .post, token: ann)
            let after = try await client.eventually("/v1/enquiries?staff_id=ann", token: testToken) {
                ($0["enquiries"] as? [[String: Any]])?.first?["status"] as? String == "closed"
            }
            #expect((after["counts"] as? [String: Any])?["served"] as? Int == 1 && after["average_waiting_ms"] is Int)
            #expect(try await client.call("/v1/enquiries?status=queued", .get).json["enquiries"].map { ($0 as? [Any])?.count } == 1)
            #expect(try await client.call("/v1/enquiries", .get, token: ann).json.errorCode == "forbidden")
            #expect(try await client.call("/v1/enquiries?from=2026-02-30", .get).json.errorCode == "invalid_argument")
            let csv = try await client.execute(uri: "/v1/enquiries?format=csv", method: .get, headers: [.authorization: "Bearer \(testToken)"]) { String(buffer: $0.body) }
            #expect(csv.hasPrefix("enquiry_id,status,") && csv.split(separator: "\r\n").count == 3)
            // The conversation, as JSON and as text (a formula is not left for a spreadsheet to run).
            let history = try await client.call("/v1/enquiries/\(first)/history", .get, token: ann)
            #expect((history.json["messages"] as? [Any])?.count == 4)
            let text = try await client.execute(uri: "/v1/enquiries/\(first)/history?format=text", method: .get, headers: [.authorization: "Bearer \(ann)"]) { String(buffer: $0.body) }
            #expect(text.contains("(visitor): Hello from") && text.contains("ann: =SUM(A1) hi"))
            #expect(OverviewRowCSV.field("=SUM(A1)") == "'=SUM(A1)" && OverviewRowCSV.field("a,\"b\"") == "\"a,\"\"b\"\"\"")
        }
    }

    @Test(arguments: Transport.allCases)
    func weblinksServeAnEngageNowPageItsScriptAndAQRCode(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let channel = try #require(try await client.call("/v1/channels", .post, json: #"{"name":"<b>Spring</b> sale","kind":"weblink"}"#).json["id"] as? String)
            let page = try await client.execute(uri: "/w/\(channel)?utm_source=poster", method: .get) { ($0.status, $0.headers, String(buffer: $0.body)) }
            #expect(page.0 == .ok && page.1[.contentType] == "text/html; charset=utf-8")
            #expect(page.1[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(page.2.contains("Engage Now") && page.2.contains("&lt;b&gt;Spring&lt;/b&gt; sale") && !page.2.contains("<b>Spring"))
            #expect(page.2.contains("src=\"/w/\(channel)/engage.js\""))
            let script = try await client.execute(uri: "/w/\(channel)/engage.js", method: .get) { ($0.status, String(buffer: $0.body)) }
            #expect(script.0 == .ok && script.1.contains("/v1/visitor/sessions"))
            let qr = try await client.execute(uri: "/w/\(channel)/qr.svg?utm_source=poster", method: .get) { ($0.status, $0.headers, String(buffer: $0.body)) }
            #expect(qr.0 == .ok && qr.1[.contentType] == "image/svg+xml" && qr.2.hasPrefix("<svg"))
            let missing = try await client.call("/w/ch_nope", .get, token: nil)
            #expect(missing.status == .notFound && missing.json.errorCode == "channel_not_found")
        }
    }

    @Test func badInputGetsStableCodes() async throws {
        try await withNode(.inMemory) { client in
            let (ann, _, channel, destination) = try await setUp(client)
            let cases: [(String, HTTPRequest.Method, String?, String?, HTTPResponse.Status, String)] = [
                ("/v1/destinations", .post, ann, #"{"name":"X"}"#, .forbidden, "forbidden"),
                ("/v1/destinations", .post, testToken, #"{"name":"X","hours":{"time_zone":"Mars/Base","windows":[]}}"#, .badRequest, "invalid_time_zone"),
                ("/v1/destinations/\(destination)", .patch, testToken, #"{"hours":{"time_zone":"UTC","windows":[{"days":["mon"],"from":"9:00","to":"18:00"}]}}"#, .badRequest, "invalid_argument"),
                ("/v1/channels/\(channel)/settings", .put, testToken, #"{"routing":{"rule":"percentage","destinations":[{"destination_id":"a","weight":60}]}}"#, .badRequest, "invalid_routing"),
                ("/v1/channels/\(channel)/settings", .put, testToken, #"{"routing":{"rule":"random"}}"#, .badRequest, "invalid_routing"),
                ("/v1/me/availability", .put, ann, #"{"availability":"sleepy"}"#, .badRequest, "invalid_argument"),
                ("/v1/staff/ann/capacity", .put, ann, #"{"capacity":3}"#, .forbidden, "forbidden"),
                ("/v1/staff/ann/capacity", .put, testToken, #"{"capacity":101}"#, .badRequest, "invalid_argument"),
                ("/v1/enquiries/nope/accept", .post, ann, nil, .notFound, "enquiry_not_found"),
                ("/v1/visitor/sessions", .post, nil, #"{"channel_id":"nope"}"#, .notFound, "channel_not_found"),
                ("/v1/visitor/messages", .post, nil, #"{"text":"hi"}"#, .unauthorized, "unauthenticated"),
                ("/v1/visitor/messages", .post, "v_x.beef", #"{"text":"hi"}"#, .unauthorized, "invalid_token"),
                ("/v1/widget/nope", .get, nil, nil, .notFound, "channel_not_found"),
            ]
            for (uri, method, token, json, status, code) in cases {
                let answer = try await client.call(uri, method, token: token, json: json)
                #expect(answer.status == status && answer.json.errorCode == code, "\(method) \(uri): \(answer.status) \(answer.json)")
            }
            let vera = try await visitorToken(client, channel: channel)
            let empty = try await client.call("/v1/visitor/messages", .post, token: vera, json: #"{"text":""}"#)
            #expect(empty.status == .badRequest)
            let capacity = try await client.call("/v1/staff/ann/capacity", .put, json: #"{"capacity":2}"#)
            #expect(capacity.status == .ok && capacity.json["capacity"] as? Int == 2)
        }
    }
}

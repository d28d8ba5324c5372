import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Gateway REST API")
struct GatewayTests {
    @Test(arguments: Transport.allCases)
    func healthReadinessAndMetrics(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let health = try await client.call("/health", .get, token: nil)
            #expect(health.status == .ok && health.json["status"] as? String == "ok")
            let ready = try await client.call("/ready", .get, token: nil)
            #expect(ready.status == .ok && ready.json["status"] as? String == "ready")
            let room = try #require(try await client.call("/v1/rooms", .post, json: #"{"name":"Metered"}"#).json["id"] as? String)
            _ = try await client.call("/v1/rooms/\(room)/messages", .post, json: #"{"text":"count me"}"#)
            let refused = try await client.call("/v1/rooms/r_unknownroom00000000/messages", .post, json: #"{"text":"nowhere"}"#)
            #expect(refused.status == .notFound)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                let lines = text.split(separator: "\n")
                #expect(text.contains("parley_log_appends_total"))
                #expect(text.contains("http_server_request_duration"))
                // Per route and status as the client saw it: a refusal is a 404, not a 500.
                let posts = lines.filter { $0.hasPrefix("hb_requests{") && $0.contains("/messages") && $0.contains(#"http_request_method="POST""#) }
                #expect(posts.contains { $0.contains(#"http_response_status_code="201""#) })
                #expect(posts.contains { $0.contains(#"http_response_status_code="404""#) })
                #expect(!posts.contains { $0.contains(#"http_response_status_code="500""#) })
                #expect(lines.contains { $0.hasPrefix("hb_request_errors{") && $0.contains(#"error_type="404""#) })
            }
        }
    }

    @Test(arguments: Transport.allCases)
    func createPostReplayAndReadHistory(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let created = try await client.call("/v1/rooms", .post, json: #"{"name":"Team","description":"d","visibility":"public","members":["bo"]}"#)
            #expect(created.status == .created)
            let room = try #require(created.json["id"] as? String)
            #expect(created.json["members"] as? [String] == ["admin", "bo"])
            #expect(created.headers[.location] == "/v1/rooms/\(room)")

            let posted = try await client.call("/v1/rooms/\(room)/messages", .post, json: #"{"text":"hello"}"#, headers: [HTTPField.Name("Idempotency-Key")!: "k1"])
            #expect(posted.status == .created)
            #expect(posted.json["seq"] as? Int == 1)
            #expect(posted.json["author"] as? String == "admin")
            let replay = try await client.call("/v1/rooms/\(room)/messages", .post, json: #"{"text":"hello","idempotency_key":"k1"}"#)
            #expect(replay.status == .ok)
            #expect(replay.json["seq"] as? Int == 1)
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            _ = try await client.call("/v1/rooms/\(room)/messages", .post, json: #"{"text":"second"}"#)

            let history = try await client.call("/v1/rooms/\(room)/messages?limit=10", .get)
            #expect(history.status == .ok)
            let texts = (history.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String }
            #expect(texts == ["hello", "second"])
            let after = try await client.call("/v1/rooms/\(room)/messages?after=1", .get)
            #expect((after.json["messages"] as? [[String: Any]])?.count == 1)
            let info = try await client.call("/v1/rooms/\(room)", .get)
            #expect(info.json["last_seq"] as? Int == 2)
            #expect(info.json["visibility"] as? String == "public")
        }
    }

    @Test(arguments: Transport.allCases)
    func badInputGetsStableErrorCodesAndChangesNothing(_ transport: Transport) async throws {
        try await withNode(transport, configure: { $0.maxBodyBytes = 2_048 }) { client in
            let room = try #require(try await client.call("/v1/rooms", .post, json: #"{"name":"Team"}"#).json["id"] as? String)
            let messages = "/v1/rooms/\(room)/messages"
            let cases: [(String, HTTPRequest.Method, String?, String?, HTTPResponse.Status, String)] = [
                (messages, .post, nil, #"{"text":"x"}"#, .unauthorized, "unauthenticated"),
                (messages, .post, "wrong-token", #"{"text":"x"}"#, .unauthorized, "invalid_token"),
                (messages, .post, testToken, #"{"text":"#, .badRequest, "invalid_json"),
                (messages, .post, testToken, "[1,2]", .badRequest, "invalid_json"),
                (messages, .post, testToken, #"{"txt":"x"}"#, .badRequest, "invalid_argument"),
                (messages, .post, testToken, #"{"text":5}"#, .badRequest, "invalid_argument"),
                (messages, .post, testToken, #"{"text":"   "}"#, .badRequest, "empty_message"),
                (messages, .post, testToken, "{\"text\":\"\(String(repeating: "x", count: 4_000))\"}", .contentTooLarge, "body_too_large"),
                ("/v1/rooms/r_nope/messages", .post, testToken, #"{"text":"x"}"#, .notFound, "room_not_found"),
                ("/v1/rooms/bad%20id/messages", .get, testToken, nil, .badRequest, "invalid_argument"),
                (messages + "?limit=0", .get, testToken, nil, .badRequest, "invalid_argument"),
                (messages + "?after=-1", .get, testToken, nil, .badRequest, "invalid_argument"),
                ("/v1/rooms", .post, testToken, #"{"kind":"direct","members":["a","b"]}"#, .badRequest, "invalid_argument"),
                ("/v1/rooms", .post, testToken, #"{"name":"x","kind":"enquiry"}"#, .conflict, "unsupported_room_kind"),
                ("/v1/rooms", .post, testToken, #"{"name":"x","kind":"lobby"}"#, .badRequest, "invalid_argument"),
                ("/v1/rooms", .post, testToken, #"{"name":"x","members":["not valid"]}"#, .badRequest, "invalid_argument"),
                ("/v1/rooms", .post, testToken, #"{"name":""}"#, .badRequest, "invalid_argument"),
                ("/v1/nothing", .get, testToken, nil, .notFound, "route_not_found"),
                ("/v1/staff/nobody/presence", .get, testToken, nil, .notFound, "staff_not_found"),
                ("/v1/rooms", .get, testToken, nil, .methodNotAllowed, "method_not_allowed"),
                (messages, .put, testToken, #"{"text":"x"}"#, .methodNotAllowed, "method_not_allowed"),
                (messages, .post, testToken, #"{"text":null}"#, .badRequest, "invalid_argument"),
                (messages, .post, testToken, #"{"text":"x","idempotency_key":null}"#, .badRequest, "invalid_argument"),
            ]
            for (uri, method, token, body, status, code) in cases {
                let response = try await client.call(uri, method, token: token, json: body)
                #expect(response.status == status, "\(method) \(uri) \(body ?? "")")
                #expect(response.json.errorCode == code, "\(method) \(uri) \(body ?? "")")
            }
            let history = try await client.call(messages, .get)
            #expect((history.json["messages"] as? [[String: Any]])?.isEmpty == true)
        }
    }
}

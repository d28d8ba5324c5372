import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Testing

/// Reads JSON messages from a WebSocket with a deadline, so no test waits forever.
struct MessageReader {
    var iterator: WebSocketInboundMessageStream.AsyncIterator

    init(_ inbound: WebSocketInboundStream) {
        iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
    }

    mutating func next(within timeout: Duration = .seconds(10)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = try await iterator.next() else { throw TestSetupError("the socket closed") }
            if case let .text(text) = message, let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
                return object
            }
        }
        throw TestSetupError("no message within \(timeout)")
    }

    /// The next message of `type`, skipping others (at most 50).
    mutating func next(ofType type: String) async throws -> [String: Any] {
        for _ in 0..<50 {
            let message = try await next()
            if message["type"] as? String == type { return message }
        }
        throw TestSetupError("no \(type) message among the next 50")
    }

    /// The event types and seqs of the next `events` message (staff updates are skipped).
    mutating func nextEvents() async throws -> [(type: String, seq: Int)] {
        let message = try await next(ofType: "events")
        return (message["events"] as? [[String: Any]] ?? []).map { ($0["type"] as? String ?? "", $0["event_seq"] as? Int ?? -1) }
    }
}

@Suite("Live sessions over WebSocket", .timeLimit(.minutes(1)))
struct LiveSessionTests {
    @Test func liveEventsReplayAndResumeWithoutGapsOrDuplicates() async throws {
        try await withNode(.live) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Live","members":["cy"]}"#).json["id"] as? String)
            _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"before"}"#)

            // First session: replay from the start, then live.
            try await client.ws("/v1/live?access_token=\(cy)") { inbound, outbound, _ in
                var reader = MessageReader(inbound)
                #expect(try await reader.next()["type"] as? String == "hello")
                try await outbound.writeTextMessage("{\"type\":\"subscribe\",\"rooms\":{\"\(room)\":0}}")
                let replay = try await reader.nextEvents()
                #expect(replay.map(\.type) == ["room.created", "message.posted", "read_pointer.moved"])
                #expect(replay.map(\.seq) == [1, 2, 3])

                _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"live @cy"}"#)
                #expect(try await reader.nextEvents().map(\.seq) == [4, 5])
                _ = try await client.call("/v1/rooms/\(room)/messages/2", .patch, token: bo, json: #"{"text":"edited"}"#)
                #expect(try await reader.nextEvents().map(\.type) == ["message.edited"])
                _ = try await client.call("/v1/rooms/\(room)/messages/2", .delete, token: bo)
                #expect(try await reader.nextEvents().map(\.type) == ["message.recalled"])
                _ = try await client.call("/v1/rooms/\(room)/read", .post, token: cy, json: #"{"seq":2}"#)
                #expect(try await reader.nextEvents().map(\.type) == ["read_pointer.moved"])
                try await outbound.close(.normalClosure, reason: nil)
            }

            // While cy is away: three posts (six events).
            for i in 1...3 { _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: "{\"text\":\"away \(i)\"}") }

            // Second session resumes after the last event seen (8): exactly 9...14, then live.
            try await client.ws("/v1/live", configuration: .init(additionalHeaders: [.authorization: "Bearer \(cy)"])) { inbound, outbound, _ in
                var reader = MessageReader(inbound)
                _ = try await reader.next()
                try await outbound.writeTextMessage("{\"type\":\"subscribe\",\"rooms\":{\"\(room)\":8}}")
                #expect(try await reader.nextEvents().map(\.seq) == Array(9...14))
                _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"back"}"#)
                let back = try await reader.next(ofType: "events")
                #expect((back["events"] as? [[String: Any]])?.map { $0["event_seq"] as? Int } == [15, 16])
                #expect(back["notify"] as? [Int] == [6], "a new message alerts cy")
                // On "mentions only", a plain message stays silent and a mention alerts.
                _ = try await client.call("/v1/rooms/\(room)/settings", .put, token: cy, json: #"{"mute":"mentions_only"}"#)
                _ = try await reader.next(ofType: "events")
                _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"quiet"}"#)
                #expect(try await reader.next(ofType: "events")["notify"] as? [Int] == [])
                _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"@cy look"}"#)
                #expect(try await reader.next(ofType: "events")["notify"] as? [Int] == [8])
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func outsidersAreRefusedAndBadMessagesAnswered() async throws {
        try await withNode(.live) { client in
            let bo = try await client.staffToken("bo")
            let eve = try await client.staffToken("eve")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Private"}"#).json["id"] as? String)
            try await client.ws("/v1/live?access_token=\(eve)") { inbound, outbound, _ in
                var reader = MessageReader(inbound)
                _ = try await reader.next()
                try await outbound.writeTextMessage("{\"type\":\"subscribe\",\"rooms\":{\"\(room)\":0}}")
                let refused = try await reader.next(ofType: "error")
                #expect(refused["code"] as? String == "not_a_member")
                try await outbound.writeTextMessage("not json")
                #expect(try await reader.next(ofType: "error")["code"] as? String == "invalid_message")
                try await outbound.writeTextMessage(#"{"type":"ping"}"#)
                _ = try await reader.next(ofType: "pong")
                // Nothing of the private room leaks to eve.
                _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"secret"}"#)
                try await outbound.writeTextMessage(#"{"type":"ping"}"#)
                let afterSecret = try await reader.next()
                #expect(afterSecret["type"] as? String == "pong", "nothing of the private room reached eve: \(afterSecret)")
                try await outbound.close(.normalClosure, reason: nil)
            }
            await #expect(throws: (any Error).self) {
                try await client.ws("/v1/live?access_token=wrong.token") { _, _, _ in }
            }
        }
    }

    /// A replay larger than one WebSocket frame arrives whole (continuation frames), and two
    /// sessions that share the room's frames still get their own `notify`.
    @Test func bigReplaysAndSharedFramesWithPerSessionNotify() async throws {
        try await withNode(.live) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let dee = try await client.staffToken("dee")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Big","members":["cy","dee"]}"#).json["id"] as? String)
            let text = String(repeating: "x", count: 600)
            for _ in 0..<60 { _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: "{\"text\":\"\(text)\"}") }
            _ = try await client.call("/v1/rooms/\(room)/settings", .put, token: dee, json: #"{"mute":"mentions_only"}"#)
            try await client.ws("/v1/live?access_token=\(cy)") { cyInbound, cyOutbound, _ in
                try await client.ws("/v1/live?access_token=\(dee)") { deeInbound, deeOutbound, _ in
                    var cyReader = MessageReader(cyInbound)
                    var deeReader = MessageReader(deeInbound)
                    _ = try await cyReader.next()
                    _ = try await deeReader.next()
                    try await cyOutbound.writeTextMessage("{\"type\":\"subscribe\",\"rooms\":{\"\(room)\":0}}")
                    let replay = try await cyReader.nextEvents()
                    #expect(replay.count == 122 && replay.map(\.seq) == Array(1...122), "one replay frame of about 80 KB, whole")
                    try await deeOutbound.writeTextMessage("{\"type\":\"subscribe\",\"rooms\":{\"\(room)\":122}}")
                    // Past the replay (dee's is empty), both are live.
                    _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"ping"}"#)
                    _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"@dee and you"}"#)
                    var cyNotify: [Int] = []
                    var deeNotify: [Int] = []
                    var cySeqs: [Int] = []
                    var deeSeqs: [Int] = []
                    for _ in 0..<10 where cySeqs.count < 4 {
                        let message = try await cyReader.next(ofType: "events")
                        cySeqs += (message["events"] as? [[String: Any]] ?? []).compactMap { $0["event_seq"] as? Int }
                        cyNotify += message["notify"] as? [Int] ?? []
                    }
                    for _ in 0..<10 where deeSeqs.count < 4 {
                        let message = try await deeReader.next(ofType: "events")
                        deeSeqs += (message["events"] as? [[String: Any]] ?? []).compactMap { $0["event_seq"] as? Int }
                        deeNotify += message["notify"] as? [Int] ?? []
                    }
                    #expect(cySeqs == [123, 124, 125, 126] && deeSeqs == [123, 124, 125, 126])
                    #expect(cyNotify == [61, 62], "cy hears every new message")
                    #expect(deeNotify == [62], "dee, on mentions only, hears the mention only")
                    try await deeOutbound.close(.normalClosure, reason: nil)
                }
                try await cyOutbound.close(.normalClosure, reason: nil)
            }
        }
    }
    /// An upgrade the node refuses gets the API's JSON error and status, not a bare 400.
    @Test func refusedUpgradesAnswerWithTheAPIsErrors() async throws {
        try await withNode(.live) { client in
            let upgrade: HTTPFields = [
                .upgrade: "websocket", .connection: "Upgrade",
                HTTPField.Name("Sec-WebSocket-Version")!: "13", HTTPField.Name("Sec-WebSocket-Key")!: "dGhlIHNhbXBsZSBub25jZQ==",
            ]
            let port = try #require(client.port)
            // A refusal closes its connection: each attempt on a connection of its own.
            func attempt(_ uri: String) async throws -> (status: HTTPResponse.Status, code: String?) {
                let connection = TestClient(host: "127.0.0.1", port: port)
                connection.connect()
                let response = try await connection.execute(.init(uri, method: .get, headers: upgrade))
                try? await connection.shutdown()
                let body = Data((response.body ?? ByteBuffer()).readableBytesView)
                let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
                let error = json["error"] as? [String: Any] ?? [:]
                return (response.status, error["code"] as? String)
            }
            let wrong = try await attempt("/v1/live?access_token=wrong.token")
            #expect(wrong.status == .unauthorized && wrong.code == "invalid_token")
            let none = try await attempt("/v1/live")
            #expect(none.status == .unauthorized && none.code == "unauthenticated")
            let elsewhere = try await attempt("/v1/elsewhere")
            #expect(elsewhere.status == .notFound && elsewhere.code == "route_not_found")
            // The node still serves REST after refusing upgrades.
            #expect(try await client.call("/health", .get).status == .ok)
            // A plain GET of the live path is told to sign in, then to upgrade.
            let plain = try await client.call("/v1/live", .get, token: nil)
            #expect(plain.status == .unauthorized && plain.json.errorCode == "unauthenticated")
            let signedIn = try await client.call("/v1/live", .get)
            #expect(signedIn.status == .upgradeRequired && signedIn.json.errorCode == "upgrade_required")
        }
    }

    /// Messages may come in several frames, control frames are answered, and a message past
    /// the size limit closes the session with 1009.
    @Test func fragmentedMessagesControlFramesAndTheSizeLimit() async throws {
        try await withNode(.live) { client in
            let bo = try await client.staffToken("bo")
            try await client.ws("/v1/live?access_token=\(bo)") { inbound, outbound, _ in
                var reader = MessageReader(inbound)
                #expect(try await reader.next()["type"] as? String == "hello")
                try await outbound.write(.custom(WebSocketFrame(fin: false, opcode: .text, data: ByteBuffer(string: #"{"type":"#))))
                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(string: #""ping"}"#))))
                #expect(try await reader.next()["type"] as? String == "pong", "a message in two frames is one message")
                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(string: #"{"type":"ping"}"#))))
                #expect(try await reader.next()["code"] as? String == "invalid_message", "binary messages are refused")
                // 70 KB in five frames: past the 64 KB limit.
                let chunk = ByteBuffer(string: String(repeating: "x", count: 14_000))
                try await outbound.write(.custom(WebSocketFrame(fin: false, opcode: .text, data: chunk)))
                for _ in 0..<4 { try await outbound.write(.custom(WebSocketFrame(fin: false, opcode: .continuation, data: chunk))) }
                var closed = false
                for _ in 0..<10 {
                    do { _ = try await reader.next(within: .seconds(5)) } catch {
                        closed = true
                        break
                    }
                }
                #expect(closed, "the session closed after an oversize message")
            }
        }
    }
}

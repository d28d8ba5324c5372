import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import Testing

@Suite("Badges, mentions and Recent Connections", .timeLimit(.minutes(1)))
struct NotificationTests {
    @Test(arguments: Transport.allCases)
    func unreadRoomsBadgeMovesWithMessagesAndReadPointers(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let first = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"One","members":["cy"]}"#).json["id"] as? String)
            let second = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Two","members":["cy"]}"#).json["id"] as? String)
            #expect(try await client.eventually("/v1/me", token: cy) { $0["unread_rooms"] as? Int == 0 }["unread_rooms"] as? Int == 0)
            for room in [first, second] {
                for i in 1...3 { _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: "{\"text\":\"m\(i)\"}") }
            }
            #expect(try await client.eventually("/v1/me", token: cy) { $0["unread_rooms"] as? Int == 2 }["unread_rooms"] as? Int == 2)
            // The author reads what they write: nothing is unread for bo.
            #expect(try await client.eventually("/v1/me", token: bo) { $0["unread_rooms"] as? Int == 0 }["unread_rooms"] as? Int == 0)
            _ = try await client.call("/v1/rooms/\(first)/read", .post, token: cy, json: #"{"seq":3}"#)
            #expect(try await client.eventually("/v1/me", token: cy) { $0["unread_rooms"] as? Int == 1 }["unread_rooms"] as? Int == 1)
            _ = try await client.call("/v1/rooms/\(second)/read", .post, token: cy, json: #"{"seq":2}"#)
            let still = try await client.call("/v1/me", .get, token: cy).json
            #expect(still["unread_rooms"] as? Int == 1, "one unread message still leaves the room unread")

            // Recent Connections: most recent activity first, with unread counts.
            _ = try await client.call("/v1/rooms/\(first)/messages", .post, token: bo, json: #"{"text":"latest"}"#)
            let recent = try await client.call("/v1/me/rooms", .get, token: cy).json
            let rooms = (recent["rooms"] as? [[String: Any]]) ?? []
            #expect(rooms.compactMap { ($0["room"] as? [String: Any])?["id"] as? String } == [first, second])
            #expect(((rooms.first?["room"] as? [String: Any])?["me"] as? [String: Any])?["unread_count"] as? Int == 1)
            #expect((rooms.first?["last_message"] as? [String: Any])?["text"] as? String == "latest")
            #expect(recent["unread_rooms"] as? Int == 2)
        }
    }

    @Test(arguments: Transport.allCases)
    func mentionsAreRecordedAndMutedOnesDoNotNotify(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let dee = try await client.staffToken("dee")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Team","members":["cy","dee"]}"#).json["id"] as? String)
            _ = try await client.call("/v1/rooms/\(room)/settings", .put, token: dee, json: #"{"mute":"muted"}"#)
            _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"@cy and @dee, look"}"#)
            _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"@all standup"}"#)
            let forCy = try await client.eventually("/v1/me/mentions", token: cy) { ($0["mentions"] as? [[String: Any]])?.count == 2 }
            let cyMentions = forCy["mentions"] as? [[String: Any]] ?? []
            #expect(cyMentions.compactMap { $0["seq"] as? Int } == [2, 1], "newest first")
            #expect(cyMentions.allSatisfy { $0["notify"] as? Bool == true && $0["by"] as? String == "bo" })
            let forDee = try await client.eventually("/v1/me/mentions", token: dee) { ($0["mentions"] as? [[String: Any]])?.count == 2 }
            #expect((forDee["mentions"] as? [[String: Any]] ?? []).allSatisfy { $0["notify"] as? Bool == false }, "muted: recorded, not notified")
            #expect((try await client.call("/v1/me/mentions", .get, token: bo).json["mentions"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func badgeAndMentionsArriveLive() async throws {
        try await withNode(.live) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            try await client.ws("/v1/live?access_token=\(cy)") { inbound, outbound, _ in
                var reader = MessageReader(inbound)
                _ = try await reader.next()
                let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Live","members":["cy"]}"#).json["id"] as? String)
                let joined = try await reader.next(ofType: "staff")
                #expect((joined["rooms"] as? [[String: Any]])?.first?["member"] as? Bool == true)
                _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"hey @cy"}"#)
                let update = try await reader.next(ofType: "staff")
                #expect(update["unread_rooms"] as? Int == 1)
                #expect((update["mentions"] as? [[String: Any]])?.first?["seq"] as? Int == 1)
                _ = try await client.call("/v1/rooms/\(room)/read", .post, token: cy, json: #"{"seq":1}"#)
                #expect(try await reader.next(ofType: "staff")["unread_rooms"] as? Int == 0)
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }
}

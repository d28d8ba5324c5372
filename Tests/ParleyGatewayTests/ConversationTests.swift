import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Multi-staff conversations through the public API, in memory and against a live server.
@Suite("Conversations over REST")
struct ConversationTests {
    @Test(arguments: Transport.allCases)
    func staffAccountsAuthenticateWithTheirOwnTokens(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo", name: "Bo Li")
            #expect(bo.hasPrefix("bo."))
            // A staff id may hold dots: its token still signs it in (the secret follows the last dot).
            let dotted = try await client.staffToken("bo.smith")
            #expect(try await client.call("/v1/staff/bo.smith", .get, token: dotted).status == .ok)
            #expect(try await client.call("/v1/staff/bo.smith", .get, token: "." + dotted).json.errorCode == "invalid_token")
            let me = try await client.call("/v1/staff/bo", .get, token: bo)
            #expect(me.status == .ok && me.json["display_name"] as? String == "Bo Li" && me.json["token"] == nil)
            // Agents cannot create staff; a tampered or rotated token stops working.
            #expect(try await client.call("/v1/staff", .post, token: bo, json: #"{"display_name":"x"}"#).json.errorCode == "forbidden")
            #expect(try await client.call("/v1/staff/bo", .get, token: bo + "0").json.errorCode == "invalid_token")
            #expect(try await client.call("/v1/staff/bo", .get, token: "nobody.abc").json.errorCode == "invalid_token")
            let rotated = try #require(try await client.call("/v1/staff/bo/token", .post, token: bo).json["token"] as? String)
            #expect(try await client.call("/v1/staff/bo", .get, token: bo).json.errorCode == "invalid_token")
            #expect(try await client.call("/v1/staff/bo", .get, token: rotated).status == .ok)
            #expect(try await client.call("/v1/staff", .post, json: #"{"id":"bo","display_name":"again"}"#).json.errorCode == "staff_already_exists")
            #expect(try await client.call("/v1/staff/ghost", .get).json.errorCode == "staff_not_found")
        }
    }

    @Test(arguments: Transport.allCases)
    func membersChatReplyMentionAndReadWhileOutsidersAreRefused(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let eve = try await client.staffToken("eve")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Deals","members":["cy"]}"#).json["id"] as? String)
            let first = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"hi @cy, see @all"}"#)
            #expect(first.json["mentions"] as? [String] == ["cy"] && first.json["mentions_all"] as? Bool == true)
            let reply = try await client.call("/v1/rooms/\(room)/messages", .post, token: cy, json: #"{"text":"on it","reply_to":1}"#)
            #expect((reply.json["reply_to"] as? [String: Any])?["excerpt"] as? String == "hi @cy, see @all")

            let forBo = try await client.call("/v1/rooms/\(room)", .get, token: bo)
            #expect((forBo.json["me"] as? [String: Any])?["unread_count"] as? Int == 1)
            let read = try await client.call("/v1/rooms/\(room)/read", .post, token: bo, json: #"{"seq":2}"#)
            #expect((read.json["me"] as? [String: Any])?["unread_count"] as? Int == 0)

            // eve is not a member: no reading, posting, replying or reading the journal.
            #expect(try await client.call("/v1/rooms/\(room)/messages", .get, token: eve).json.errorCode == "not_a_member")
            #expect(try await client.call("/v1/rooms/\(room)/messages", .post, token: eve, json: #"{"text":"x"}"#).json.errorCode == "not_a_member")
            #expect(try await client.call("/v1/rooms/\(room)/events", .get, token: eve).json.errorCode == "not_a_member")
            #expect(try await client.call("/v1/rooms/\(room)/join", .post, token: eve).json.errorCode == "not_a_member")
            #expect(try await client.call("/v1/rooms/\(room)/messages", .post, token: cy, json: #"{"text":"x","reply_to":99}"#).json.errorCode == "message_not_found")
            // 10,000 Unicode scalars is the limit, as the OpenAPI document's maxLength says.
            let longest = try await client.call("/v1/rooms/\(room)/messages", .post, token: cy, json: "{\"text\":\"\(String(repeating: "é", count: 10_000))\"}")
            #expect(longest.status == .created)
            let tooLong = try await client.call("/v1/rooms/\(room)/messages", .post, token: cy, json: "{\"text\":\"\(String(repeating: "é", count: 10_001))\"}")
            #expect(tooLong.status == .badRequest && tooLong.json.errorCode == "message_too_long")
            _ = try await client.call("/v1/rooms/\(room)/read", .post, token: bo, json: #"{"seq":3}"#)

            // Adding eve makes the room readable to her, with earlier history already read.
            _ = try await client.call("/v1/rooms/\(room)/members", .post, token: cy, json: #"{"members":["eve"]}"#)
            let forEve = try await client.call("/v1/rooms/\(room)", .get, token: eve)
            #expect((forEve.json["me"] as? [String: Any])?["unread_count"] as? Int == 0)
            #expect(try await client.call("/v1/rooms/\(room)/members/bo", .delete, token: eve).json.errorCode == "forbidden")
            #expect(try await client.call("/v1/rooms/\(room)/leave", .post, token: eve).status == .ok)
            #expect(try await client.call("/v1/rooms/\(room)/messages", .get, token: eve).json.errorCode == "not_a_member")
        }
    }

    @Test(arguments: Transport.allCases)
    func editAndRecallWithinFiveMinutesOnly(_ transport: Transport) async throws {
        let clock = ManualClock()
        try await withNode(transport, clock: clock) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Edits","members":["cy"]}"#).json["id"] as? String)
            for text in ["one", "two"] { _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: "{\"text\":\"\(text)\"}") }
            let edited = try await client.call("/v1/rooms/\(room)/messages/1", .patch, token: bo, json: #"{"text":"ONE"}"#)
            #expect(edited.status == .ok && edited.json["text"] as? String == "ONE" && edited.json["edited_at"] != nil)
            #expect(try await client.call("/v1/rooms/\(room)/messages/1", .patch, token: cy, json: #"{"text":"no"}"#).json.errorCode == "not_the_author")
            #expect(try await client.call("/v1/rooms/\(room)/messages/1", .delete, token: cy).json.errorCode == "not_the_author")
            let recalled = try await client.call("/v1/rooms/\(room)/messages/2", .delete, token: bo)
            #expect(recalled.json["recalled"] as? Bool == true && recalled.json["text"] as? String == "")

            clock.advance(seconds: 5 * 60 + 1)
            let late = try await client.call("/v1/rooms/\(room)/messages/1", .patch, token: bo, json: #"{"text":"late"}"#)
            #expect(late.status == .forbidden && late.json.errorCode == "edit_window_expired")
            #expect(try await client.call("/v1/rooms/\(room)/messages/1", .delete, token: bo).json.errorCode == "edit_window_expired")

            let history = try await client.call("/v1/rooms/\(room)/messages", .get, token: cy)
            let messages = history.json["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["text"] as? String } == ["ONE", ""])
            #expect(messages.map { $0["recalled"] as? Bool } == [false, true])
        }
    }

    @Test(arguments: Transport.allCases)
    func forwardingNeedsMembershipOfBothRoomsAndKeepsTheOrigin(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let source = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Source","members":["cy"]}"#).json["id"] as? String)
            let target = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Target"}"#).json["id"] as? String)
            _ = try await client.call("/v1/rooms/\(source)/messages", .post, token: cy, json: #"{"text":"price is 42"}"#)
            let forwarded = try await client.call("/v1/rooms/\(source)/messages/1/forward", .post, token: bo, json: "{\"to_room\":\"\(target)\",\"text\":\"FYI\"}")
            #expect(forwarded.status == .created)
            #expect(forwarded.json["room_id"] as? String == target)
            let origin = forwarded.json["forwarded_from"] as? [String: Any]
            #expect(origin?["room_id"] as? String == source && origin?["author"] as? String == "cy" && origin?["excerpt"] as? String == "price is 42")
            // cy is not in the target room; nobody forwards what they cannot read.
            #expect(try await client.call("/v1/rooms/\(source)/messages/1/forward", .post, token: cy, json: "{\"to_room\":\"\(target)\"}").json.errorCode == "not_a_member")
            #expect(try await client.call("/v1/rooms/\(target)/messages/1/forward", .post, token: cy, json: "{\"to_room\":\"\(source)\"}").json.errorCode == "not_a_member")
        }
    }

    @Test(arguments: Transport.allCases)
    func muteSettingsAndTheJournalResume(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Quiet","visibility":"public"}"#).json["id"] as? String)
            let muted = try await client.call("/v1/rooms/\(room)/settings", .put, token: bo, json: #"{"mute":"mentions_only"}"#)
            #expect((muted.json["me"] as? [String: Any])?["mute"] as? String == "mentions_only")
            #expect(try await client.call("/v1/rooms/\(room)/settings", .put, token: bo, json: #"{"mute":"loud"}"#).json.errorCode == "invalid_argument")
            _ = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: #"{"text":"a"}"#)
            let all = try await client.call("/v1/rooms/\(room)/events", .get, token: bo)
            let types = (all.json["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
            #expect(types == ["room.created", "mute.changed", "message.posted", "read_pointer.moved"])
            let resumed = try await client.call("/v1/rooms/\(room)/events?after=2", .get, token: bo)
            let seqs = (resumed.json["events"] as? [[String: Any]])?.compactMap { $0["event_seq"] as? Int }
            #expect(seqs == [3, 4])
            #expect(resumed.json["oldest_kept"] as? Int == 1)
        }
    }
}

@Suite("Quick links and text shortcuts")
struct ShortcutTests {
    @Test(arguments: Transport.allCases)
    func personalShortcutsExpandIntoMessages(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Sales","members":["cy"]}"#).json["id"] as? String)
            let link = try await client.call("/v1/me/shortcuts/pricing", .put, token: bo, json: #"{"kind":"link","title":"Pricing","value":"https://example.com/pricing"}"#)
            #expect(link.status == .ok && link.json["code"] as? String == "pricing")
            _ = try await client.call("/v1/me/shortcuts/hotline", .put, token: bo, json: #"{"kind":"phone","title":"Hotline","value":"+85212345678"}"#)
            #expect(try await client.call("/v1/me/shortcuts/bad", .put, token: bo, json: #"{"kind":"link","value":"ftp://x"}"#).json.errorCode == "invalid_argument")
            #expect(try await client.call("/v1/me/shortcuts/Bad%20Code", .put, token: bo, json: #"{"kind":"text","value":"x"}"#).json.errorCode == "invalid_argument")
            #expect(try await client.call("/v1/me/shortcuts/tel", .put, token: bo, json: #"{"kind":"phone","value":"call me"}"#).json.errorCode == "invalid_argument")
            let listed = try await client.call("/v1/me/shortcuts", .get, token: bo)
            #expect((listed.json["shortcuts"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["hotline", "pricing"])

            let sent = try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"pricing"}"#)
            #expect(sent.status == .created)
            #expect(sent.json["text"] as? String == "Pricing: https://example.com/pricing")
            #expect((sent.json["quick_link"] as? [String: Any])?["kind"] as? String == "link")
            // Shortcuts are personal: cy has none called pricing.
            #expect(try await client.call("/v1/rooms/\(room)/quick-links", .post, token: cy, json: #"{"code":"pricing"}"#).json.errorCode == "shortcut_not_found")
            #expect(try await client.call("/v1/me/shortcuts/pricing", .delete, token: bo).status == .noContent)
            #expect(try await client.call("/v1/me/shortcuts/pricing", .delete, token: bo).json.errorCode == "shortcut_not_found")
            #expect(try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"pricing"}"#).json.errorCode == "shortcut_not_found")
        }
    }
}

@Suite("Room kinds and Room Information")
struct RoomInformationTests {
    @Test(arguments: Transport.allCases)
    func directRoomsArePerPairAndCarryContactInformation(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let opened = try await client.call("/v1/rooms", .post, token: bo, json: #"{"kind":"direct","members":["cy"]}"#)
            #expect(opened.status == .created && opened.json["kind"] as? String == "direct")
            let room = try #require(opened.json["id"] as? String)
            // The same pair, from either side, is the same room.
            let again = try await client.call("/v1/rooms", .post, token: cy, json: #"{"kind":"direct","members":["bo"]}"#)
            #expect(again.status == .ok && again.json["id"] as? String == room)
            #expect(try await client.call("/v1/rooms", .post, token: bo, json: #"{"kind":"direct","members":["cy","dee"]}"#).json.errorCode == "invalid_argument")
            let contact = try await client.call(
                "/v1/rooms/\(room)/information/contact", .put, token: cy,
                json: #"{"first_name":"Ada","last_name":"Lam","phone":"+85290000000","email":"ada@example.com","timezone":"Asia/Hong_Kong"}"#)
            let info = (contact.json["information"] as? [String: Any])?["contact"] as? [String: Any]
            #expect(info?["first_name"] as? String == "Ada" && info?["timezone"] as? String == "Asia/Hong_Kong")
            #expect(try await client.call("/v1/rooms/\(room)/information/visitor/plan", .put, token: bo, json: #"{"value":"gold"}"#).json.errorCode == "unsupported_room_kind")
            #expect(try await client.call("/v1/rooms/\(room)/join", .post, token: try await client.staffToken("eve")).json.errorCode == "not_a_member")
        }
    }

    @Test(arguments: Transport.allCases)
    func conferenceRoomsRecordHostAndParticipants(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            _ = try await client.staffToken("cy")
            let conference = try await client.call("/v1/rooms", .post, token: bo, json: #"{"kind":"conference","name":"Weekly review","members":["cy"]}"#)
            #expect(conference.status == .created)
            let info = (conference.json["information"] as? [String: Any])?["conference"] as? [String: Any]
            #expect(info?["host"] as? String == "bo" && info?["participants"] as? [String] == ["bo", "cy"])
            #expect(try await client.call("/v1/rooms", .post, token: bo, json: #"{"kind":"enquiry","name":"x"}"#).json.errorCode == "unsupported_room_kind")
        }
    }
}

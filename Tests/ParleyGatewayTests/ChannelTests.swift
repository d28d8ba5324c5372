import Foundation
import HTTPTypes

import HummingbirdTesting
import Testing



@Suite("Channels and channel quick links")
struct ChannelTests {
    @Test(arguments: Transport.allCases)
    func adminsManageChannelsAndStaffSendTheirQuickLinks(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let bo = try await client.staffToken("bo")
            _ = try await client.staffToken("cy")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Sales","members":["cy"]}"#).json["id"] as? String)

            // Only admins create and change channels; bad input changes nothing.
            let body = #"{"name":"Hong Kong site","kind":"weblink","web_link":"https://parley.example/hk","phone_number":"+85230001234"}"#
            #expect(try await client.call("/v1/channels", .post, token: bo, json: body).json.errorCode == "forbidden")
            #expect(try await client.call("/v1/channels", .post, token: testToken, json: #"{"name":"x","kind":"pager"}"#).json.errorCode == "invalid_argument")
            #expect(try await client.call("/v1/channels", .post, token: testToken, json: #"{"name":"x","kind":"weblink","web_link":"ftp://x"}"#).json.errorCode == "invalid_argument")
            #expect(try await client.call("/v1/channels", .post, token: testToken, json: #"{"name":"x","kind":"phone","phone_number":"call us"}"#).json.errorCode == "invalid_argument")
            let created = try await client.call("/v1/channels", .post, token: testToken, json: body)
            #expect(created.status == .created)
            let channel = try #require(created.json["id"] as? String)
            #expect(created.json["kind"] as? String == "weblink")
            #expect((created.json["quick_links"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["web-link", "phone"])

            // Channel shortcuts of its own, beside the built-in web link and phone number.
            let faq = try await client.call("/v1/channels/\(channel)/shortcuts/faq", .put, token: testToken, json: #"{"kind":"link","title":"FAQ","value":"https://parley.example/faq"}"#)
            #expect(faq.status == .ok && faq.json["code"] as? String == "faq")
            #expect(try await client.call("/v1/channels/\(channel)/shortcuts/faq", .put, token: bo, json: #"{"kind":"text","value":"x"}"#).json.errorCode == "forbidden")
            #expect(try await client.call("/v1/channels/\(channel)/shortcuts/phone", .put, token: testToken, json: #"{"kind":"text","value":"x"}"#).json.errorCode == "shortcut_reserved")
            #expect(try await client.call("/v1/channels/nope/shortcuts/faq", .put, token: testToken, json: #"{"kind":"text","value":"x"}"#).json.errorCode == "channel_not_found")
            let listed = try await client.call("/v1/channels", .get, token: bo)
            let entry = try #require((listed.json["channels"] as? [[String: Any]])?.first { $0["id"] as? String == channel })
            #expect((entry["quick_links"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["web-link", "phone", "faq"])

            // Any staff member sends a channel's quick links.
            let web = try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"web-link","channel_id":"\#(channel)"}"#)
            #expect(web.status == .created && web.json["text"] as? String == "Hong Kong site: https://parley.example/hk")
            #expect((web.json["quick_link"] as? [String: Any])?["kind"] as? String == "link")
            let phone = try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"phone","channel_id":"\#(channel)"}"#)
            #expect(phone.json["text"] as? String == "Hong Kong site: +85230001234")
            let own = try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"faq","channel_id":"\#(channel)"}"#)
            #expect(own.json["text"] as? String == "FAQ: https://parley.example/faq")
            #expect(try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"faq"}"#).json.errorCode == "shortcut_not_found")
            #expect(try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"faq","channel_id":"ch_none"}"#).json.errorCode == "channel_not_found")
            #expect(try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"faq","channel_id":"a b"}"#).json.errorCode == "invalid_argument")

            // Removing the phone number removes its quick link; the rest stays.
            let updated = try await client.call("/v1/channels/\(channel)", .patch, token: testToken, json: #"{"name":"HK site","phone_number":""}"#)
            #expect(updated.json["name"] as? String == "HK site" && updated.json["phone_number"] == nil)
            #expect(updated.json["web_link"] as? String == "https://parley.example/hk")
            #expect(try await client.call("/v1/rooms/\(room)/quick-links", .post, token: bo, json: #"{"code":"phone","channel_id":"\#(channel)"}"#).json.errorCode == "shortcut_not_found")
            #expect(try await client.call("/v1/channels/\(channel)/shortcuts/faq", .delete, token: testToken).status == .noContent)
            #expect(try await client.call("/v1/channels/\(channel)/shortcuts/faq", .delete, token: testToken).json.errorCode == "shortcut_not_found")
            let read = try await client.call("/v1/channels/\(channel)", .get, token: bo)
            #expect((read.json["quick_links"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["web-link"])
            #expect(try await client.call("/v1/channels/ch_none", .get, token: bo).json.errorCode == "channel_not_found")
        }
    }
}

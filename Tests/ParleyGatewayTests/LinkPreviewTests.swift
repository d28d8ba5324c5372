import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Synchronization
import Testing

/// A one-page web site on 127.0.0.1, port 0.
func withWebPage<R: Sendable>(_ body: @Sendable (_ url: String) async throws -> R) async throws -> R {
    let router = Router()
    router.get("/launch") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "text/html"],
            body: .init(byteBuffer: ByteBuffer(string: #"<head><meta property="og:title" content="Launch day"><meta name="description" content="All about it"></head>"#)))
    }
    let port = Atomic<Int>(0)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
        port.store(channel.localAddress?.port ?? 0, ordering: .releasing)
    })
    return try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask {
            try await app.run()
            return nil
        }
        for _ in 0..<500 where port.load(ordering: .acquiring) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let result = try await body("http://127.0.0.1:\(port.load(ordering: .acquiring))/launch")
        group.cancelAll()
        return result
    }
}

@Suite("Link previews", .timeLimit(.minutes(1)))
struct LinkPreviewTests {
    @Test func aPostedLinkGetsItsPreviewLiveAndInHistory() async throws {
        try await withWebPage { page in
            try await withNode(.live, configure: { $0.linkPreviewPrivateAddresses = true }) { client in
                let bo = try await client.staffToken("bo")
                let cy = try await client.staffToken("cy")
                let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Links","members":["cy"]}"#).json["id"] as? String)
                try await client.ws("/v1/live?access_token=\(cy)") { inbound, outbound, _ in
                    var reader = MessageReader(inbound)
                    _ = try await reader.next()
                    try await outbound.writeTextMessage("{\"type\":\"subscribe\",\"rooms\":{\"\(room)\":0}}")
                    _ = try await reader.nextEvents()
                    let posted = try await client.call("/v1/rooms/\(room)/messages", .post, token: bo, json: "{\"text\":\"read \(page) today\"}")
                    #expect((posted.json["link_previews"] as? [Any])?.isEmpty == true, "the preview comes after the post")
                    _ = try await reader.nextEvents()
                    // The preview arrives as its own event, once fetched.
                    let previewed = try await reader.next(ofType: "events")
                    let event = try #require((previewed["events"] as? [[String: Any]])?.first)
                    #expect(event["type"] as? String == "message.previewed")
                    let previews = (event["message"] as? [String: Any])?["link_previews"] as? [[String: Any]]
                    #expect(previews?.first?["url"] as? String == page)
                    #expect(previews?.first?["title"] as? String == "Launch day")
                    #expect(previews?.first?["description"] as? String == "All about it")
                    try await outbound.close(.normalClosure, reason: nil)
                }
                let history = try await client.call("/v1/rooms/\(room)/messages", .get, token: cy)
                let message = try #require((history.json["messages"] as? [[String: Any]])?.last)
                #expect((message["link_previews"] as? [[String: Any]])?.first?["title"] as? String == "Launch day")
                // Editing the link away drops its preview.
                let edited = try await client.call("/v1/rooms/\(room)/messages/\(message["seq"] as? Int ?? 0)", .patch, token: bo, json: #"{"text":"no link now"}"#)
                #expect((edited.json["link_previews"] as? [Any])?.isEmpty == true)
            }
        }
    }
}

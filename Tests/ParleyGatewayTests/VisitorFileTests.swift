import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import ParleyGateway

/// Visitors' files: shared into their open enquiry, seen by its staff, read back with the
/// visitor token and by nobody else.
@Suite("Visitors' files", .timeLimit(.minutes(1)))
struct VisitorFileTests {
    func upload(_ client: any TestClientProtocol, token: String, name: String, bytes: [UInt8], key: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/pdf"]
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await client.execute(uri: "/v1/visitor/files?name=\(name)&caption=my%20receipt", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:])
        }
    }

    @Test(arguments: Transport.allCases)
    func aVisitorSharesAFileInTheirOpenEnquiry(_ transport: Transport) async throws {
        try await withNode(transport) { client in
            let enquiries = EnquiryAPITests()
            let (ann, bob, channel, _) = try await enquiries.setUp(client)
            let vera = try await enquiries.visitorToken(client, channel: channel)
            let other = try await enquiries.visitorToken(client, channel: channel)
            let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            // No enquiry open yet: the file has nowhere to go.
            let early = try await upload(client, token: vera, name: "receipt.pdf", bytes: bytes)
            #expect(early.0 == .conflict && early.1.errorCode == "no_open_enquiry")
            let first = try await client.call("/v1/visitor/messages", .post, token: vera, json: #"{"text":"Here is my receipt"}"#)
            let enquiry = try #require((first.json["enquiry"] as? [String: Any])?["enquiry_id"] as? String)
            _ = try await client.eventually("/v1/visitor/messages", token: vera) { ($0["messages"] as? [Any])?.count ?? 0 >= 1 }
            let (status, message) = try await upload(client, token: vera, name: "receipt.pdf", bytes: bytes, key: "r1")
            #expect(status == .created, "\(message)")
            #expect(message["sender"] as? String == "visitor" && message["text"] as? String == "my receipt")
            let attachment = try #require(message["attachment"] as? [String: Any])
            #expect(attachment["size"] as? Int == 70_000 && attachment["kind"] as? String == "document")
            #expect(attachment["sha256"] as? String == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            let retried = try await upload(client, token: vera, name: "receipt.pdf", bytes: bytes, key: "r1")
            #expect(retried.0 == .ok && (retried.1["attachment"] as? [String: Any])?["id"] as? String == attachment["id"] as? String, "a retry is answered, not stored again")
            // The visitor reads it back at its url; another visitor and a staff member outside the room cannot.
            let url = try #require(attachment["url"] as? String)
            let mine = try await client.execute(uri: url, method: .get, headers: [.authorization: "Bearer \(vera)"]) { ($0.status, Array($0.body.readableBytesView)) }
            #expect(mine.0 == .ok && mine.1 == bytes)
            let theirs = try await client.execute(uri: url, method: .get, headers: [.authorization: "Bearer \(other)"]) { $0.status }
            #expect(theirs == .forbidden || theirs == .notFound)
            let outsider = try await client.execute(uri: url, method: .get, headers: [.authorization: "Bearer \(bob)"]) { $0.status }
            #expect(outsider == .forbidden || outsider == .notFound)
            // The staff member who accepts sees it in the room and reads it.
            let accepted = try await client.call("/v1/enquiries/\(enquiry)/accept", .post, token: ann)
            #expect(accepted.status == .ok, "\(accepted.json)")
            let history = try await client.eventually("/v1/rooms/\(enquiry)/messages", token: ann) { page in
                (page["messages"] as? [[String: Any]])?.contains { $0["attachment"] != nil } == true
            }
            #expect((history["messages"] as? [[String: Any]])?.filter { $0["attachment"] != nil }.count == 1)
            let staffRead = try await client.execute(uri: url, method: .get, headers: [.authorization: "Bearer \(ann)", .range: "bytes=0-9"]) { ($0.status, Array($0.body.readableBytesView)) }
            #expect(staffRead.0 == .partialContent && staffRead.1 == Array(bytes.prefix(10)))
            // A visitor token that names nobody is refused.
            let forged = try await upload(client, token: "v_nobody.secret", name: "x.pdf", bytes: [1])
            #expect(forged.0 == .unauthorized)
        }
    }
}

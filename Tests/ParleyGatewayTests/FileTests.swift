import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ParleyGateway
import NIOCore
import Testing

@Suite("Files", .timeLimit(.minutes(1)))
struct FileTests {
    func upload(_ client: any TestClientProtocol, token: String, room: String, name: String, type: String, bytes: [UInt8]) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(
            uri: "/v1/rooms/\(room)/files?name=\(name)&caption=see%20attached", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(bytes: bytes)
        ) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:])
        }
    }

    func download(_ client: any TestClientProtocol, token: String, _ url: String, range: String? = nil) async throws -> (HTTPResponse.Status, HTTPFields, [UInt8]) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if let range { headers[.range] = range }
        return try await client.execute(uri: url, method: .get, headers: headers) { ($0.status, $0.headers, Array($0.body.readableBytesView)) }
    }

    @Test(arguments: Transport.allCases)
    func uploadDownloadRangesAndRecall(_ transport: Transport) async throws {
        try await withNode(transport, configure: { $0.maxFileBytes = 1 << 20 }) { client in
            let bo = try await client.staffToken("bo")
            let cy = try await client.staffToken("cy")
            let eve = try await client.staffToken("eve")
            let room = try #require(try await client.call("/v1/rooms", .post, token: bo, json: #"{"name":"Files","members":["cy"]}"#).json["id"] as? String)
            let bytes = (0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
            let (status, message) = try await upload(client, token: bo, room: room, name: "photo.png", type: "image/png", bytes: bytes)
            #expect(status == .created)
            let attachment = try #require(message["attachment"] as? [String: Any])
            #expect(attachment["kind"] as? String == "image" && attachment["size"] as? Int == 600_000)
            let checksum = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            #expect(attachment["sha256"] as? String == checksum)
            #expect(message["text"] as? String == "see attached")
            let url = try #require(attachment["url"] as? String)

            let (full, headers, body) = try await download(client, token: cy, url)
            #expect(full == .ok && body == bytes)
            #expect(headers[.contentType] == "image/png" && headers[.acceptRanges] == "bytes" && headers[.eTag] == "\"\(checksum)\"")
            let (partial, partialHeaders, slice) = try await download(client, token: cy, url, range: "bytes=262140-262149")
            #expect(partial == .partialContent && slice == Array(bytes[262_140...262_149]))
            #expect(partialHeaders[.contentRange] == "bytes 262140-262149/600000")
            #expect(try await download(client, token: cy, url, range: "bytes=-5").2 == Array(bytes.suffix(5)))
            #expect(try await download(client, token: cy, url, range: "bytes=599990-").2 == Array(bytes.suffix(10)))
            let (unsatisfiable, badHeaders, _) = try await download(client, token: cy, url, range: "bytes=600000-")
            #expect(unsatisfiable == .rangeNotSatisfiable && badHeaders[.contentRange] == "bytes */600000")

            #expect(try await download(client, token: eve, url).0 == .forbidden)
            #expect(try await upload(client, token: eve, room: room, name: "x.txt", type: "text/plain", bytes: [1]).1.errorCode == "not_a_member")
            let (tooLarge, refusal) = try await upload(client, token: bo, room: room, name: "big.bin", type: "application/octet-stream", bytes: [UInt8](repeating: 7, count: (1 << 20) + 1))
            #expect(tooLarge == .contentTooLarge && refusal.errorCode == "file_too_large")
            #expect(try await upload(client, token: bo, room: room, name: "", type: "text/plain", bytes: [1]).1.errorCode == "invalid_argument")

            // A recall takes the file with it.
            let seq = try #require(message["seq"] as? Int)
            let recalled = try await client.call("/v1/rooms/\(room)/messages/\(seq)", .delete, token: bo)
            #expect(recalled.json["attachment"] == nil && recalled.json["recalled"] as? Bool == true)
            let (gone, _, goneBody) = try await download(client, token: cy, url)
            #expect(gone == .notFound)
            #expect(String(decoding: goneBody, as: UTF8.self).contains("file_not_found"))
        }
    }

    @Test func byteRangesFollowRFC9110() {
        #expect(ByteRange.parse("bytes=0-0", size: 10) == 0..<1)
        #expect(ByteRange.parse("bytes=5-100", size: 10) == 5..<10)
        #expect(ByteRange.parse("bytes=-100", size: 10) == 0..<10)
        #expect(ByteRange.parse("bytes=3-", size: 10) == 3..<10)
        #expect(ByteRange.parse("bytes=2-4, 6-7", size: 10) == 2..<5)
        for bad in ["bytes=10-", "bytes=4-2", "bytes=-0", "items=0-1", "bytes=a-b", "bytes="] {
            #expect(ByteRange.parse(bad, size: 10) == nil, "\(bad)")
        }
    }
}

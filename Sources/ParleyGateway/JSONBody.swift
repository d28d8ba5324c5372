import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading and writing JSON bodies with the gateway's limits and error codes.
enum JSONBody {
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal_error","message":"encoding failed"}}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A response whose body `JSONWriter` writes (the hot path's types).
    static func response<T: JSONWritable & Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }

    /// Collects the body (refusing more than `limit` bytes) and decodes it.
    static func decode<T: RequestBody>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw GatewayError.bodyTooLarge(limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw GatewayError.bodyTooLarge(limit)
        }
        guard buffer.readableBytes > 0 else { throw GatewayError.invalidJSON("the request needs a JSON body") }
        let data = Data(buffer.readableBytesView)
        // Optional fields are absent or have a value: an explicit null is refused, not read
        // as absent, so the API means what its schema says.
        // (Only a body with the word null in it needs that look.)
        if Self.mentionsNull(buffer), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let field = T.fieldNames.first(where: { object[$0] is NSNull })
        {
            throw GatewayError.invalidArgument("field \(field) must not be null")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw GatewayError.invalidJSON("the body is not valid JSON")
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw GatewayError.invalidJSON("the body must be a JSON object")
        } catch let DecodingError.keyNotFound(key, _) {
            throw GatewayError.invalidArgument("missing field \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw GatewayError.invalidArgument("field \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw GatewayError.invalidArgument("field \(context.codingPath.map(\.stringValue).joined(separator: ".")) must not be null")
        } catch {
            throw GatewayError.invalidJSON("the body could not be read as the expected JSON object")
        }
    }
}

extension JSONBody {
    /// Whether the bytes `null` occur in `buffer`.
    static func mentionsNull(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 4 else { return false }
            for index in 0...(bytes.count - 4)
            where bytes[index] == 0x6E && bytes[index + 1] == 0x75 && bytes[index + 2] == 0x6C && bytes[index + 3] == 0x6C {
                return true
            }
            return false
        }
    }
}

/// A JSON request body: the fields it defines (others are ignored; these may not be null).
protocol RequestBody: Decodable {
    static var fieldNames: [String] { get }
}

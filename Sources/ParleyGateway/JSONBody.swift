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
        try T(try await decode(fields: request, limit: limit))
    }

    /// Collects the body (refusing more than `limit` bytes) and reads its fields.
    static func decode(fields request: Request, limit: Int) async throws -> JSONFields {
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
        return try JSONObjectReader.fields(of: Array(buffer.readableBytesView))
    }
}

/// A JSON request body, read from its fields (`JSONFields`: others are ignored, and none it
/// takes may be null).
protocol RequestBody {
    init(_ fields: JSONFields) throws(GatewayError)
}

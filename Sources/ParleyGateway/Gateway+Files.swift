import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParleyDomain
import ParleyRuntime

/// A shared file as clients see it.
struct AttachmentResponse: Encodable {
    let id: String
    let name: String
    let contentType: String
    let kind: String
    let size: UInt64
    let sha256: String
    let url: String

    enum CodingKeys: String, CodingKey {
        case id, name, kind, size, sha256, url
        case contentType = "content_type"
    }

    /// `url` is where the reader fetches it (staff: the room's files; visitors: their own).
    init(_ file: FileAttachment, room: RoomID, url: String? = nil) {
        id = file.id
        name = file.name
        contentType = file.contentType
        kind = file.kind.name
        size = file.size
        sha256 = file.sha256.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        self.url = url ?? "/v1/rooms/\(room)/files/\(file.id)"
    }
}

extension Gateway {
    func addFileRoutes(to rooms: RouterGroup<BasicRequestContext>) {
        rooms.post(":roomID/files") { request, context -> Response in
            let caller = try await caller(of: request)
            let room = try Self.roomID(context)
            let upload = try await Self.fileUpload(request, limit: configuration.maxFileBytes)
            let (message, replayed) = try await runtime.uploadFile(
                to: room, by: caller.staff, name: upload.name, contentType: upload.contentType, bytes: upload.bytes,
                sha256: Array(SHA256.hash(data: upload.bytes)), caption: upload.caption,
                idempotencyKey: request.headers[.idempotencyKey])
            return Self.posted(message, in: room, replayed: replayed)
        }

        // Staff, and the visitors of enquiry rooms (with their visitor token), read files here.
        rooms.get(":roomID/files/:fileID") { request, context -> Response in
            let reader = try await fileReader(request)
            let room = try Self.roomID(context)
            guard let fileID = context.parameters.get("fileID"), RoomID.isValid(fileID) else {
                throw GatewayError.invalidArgument("a file id has 1 to 64 of A-Z a-z 0-9 . _ -")
            }
            let file = try await runtime.file(fileID, in: room, reader: reader)
            return try await fileResponse(file, in: room, request: request)
        }
    }

    /// Who reads a file: the staff member the token names, else the visitor (as their member).
    private func fileReader(_ request: Request) async throws -> StaffID {
        do {
            return try await caller(of: request).staff
        } catch let error as GatewayError where error.status == .unauthorized {
            return try await visitorCaller(request).id.member
        }
    }

    /// A file upload's query items and body: `name` (required), `caption`, the content type.
    struct FileUploadRequest {
        let name: String
        let contentType: String
        let caption: String
        let bytes: [UInt8]
    }

    static func fileUpload(_ request: Request, limit: Int) async throws -> FileUploadRequest {
        let query = request.uri.queryParameters
        guard let name = query.get("name"), !name.isEmpty else { throw GatewayError.invalidArgument("the name query item names the file") }
        let contentType = request.headers[.contentType] ?? "application/octet-stream"
        guard contentType.utf8.count <= 255, !contentType.contains("\n") else { throw GatewayError.invalidArgument("the content type is too long") }
        var body = request
        let buffer: ByteBuffer
        do {
            buffer = try await body.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw GatewayError(.contentTooLarge, code: "file_too_large", "a file has at most \(limit) bytes")
        }
        guard buffer.readableBytes > 0 else { throw GatewayError.invalidArgument("the file is empty") }
        let caption = query.get("caption") ?? ""
        guard caption.unicodeScalars.count <= 1_000 else { throw GatewayError.invalidArgument("a caption has at most 1000 characters") }
        return FileUploadRequest(name: name, contentType: contentType, caption: caption, bytes: Array(buffer.readableBytesView))
    }

    /// `file`'s bytes as a response: whole, or the one range a `Range` header asks for.
    func fileResponse(_ file: FileAttachment, in room: RoomID, request: Request) async throws -> Response {
        let etag = "\"" + AttachmentResponse(file, room: room).sha256 + "\""
        var headers: HTTPFields = [
            .contentType: file.contentType, .acceptRanges: "bytes", .eTag: etag,
            .contentDisposition: "inline; filename=\"\(file.name.replacingOccurrences(of: "\"", with: ""))\"",
        ]
        guard let rangeHeader = request.headers[.range] else {
            let bytes = try await runtime.fileBytes(file, in: room, range: 0..<file.size)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        guard let range = ByteRange.parse(rangeHeader, size: file.size) else {
            var response = ErrorMiddleware<BasicRequestContext>.response(
                for: GatewayError(.rangeNotSatisfiable, code: "range_not_satisfiable", "the file has \(file.size) bytes"))
            response.headers[.contentRange] = "bytes */\(file.size)"
            return response
        }
        let bytes = try await runtime.fileBytes(file, in: room, range: range)
        headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(file.size)"
        return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// One `Range: bytes=…` request (RFC 9110): `a-b`, `a-`, or `-n` (the last n bytes).
/// Several ranges in one header are answered with the first.
enum ByteRange {
    static func parse(_ header: String, size: UInt64) -> Range<UInt64>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let first = header.dropFirst("bytes=".count).split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let parts = first.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = UInt64(parts[1]), suffix > 0 else { return nil }
            return (size - min(suffix, size))..<size
        }
        guard let start = UInt64(parts[0]), start < size else { return nil }
        if parts[1].isEmpty { return start..<size }
        guard let end = UInt64(parts[1]), end >= start else { return nil }
        return start..<(min(end, size - 1) + 1)
    }
}

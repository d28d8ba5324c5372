import Crypto
import Hummingbird
import ParleyDomain
import ParleyRuntime

/// Visitors' files: shared into their open enquiry's room as staff share theirs (the bytes
/// through the room's partition log); read back at the room's file URL with the visitor token.
extension Gateway {
    func addVisitorFileRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/visitor/files") { request, _ -> Response in
            let visitor = try await visitorCaller(request)
            guard let enquiry = visitor.openEnquiry else {
                throw GatewayError(.conflict, code: "no_open_enquiry", "a file joins an open enquiry: write a message first")
            }
            let upload = try await Self.fileUpload(request, limit: configuration.maxFileBytes)
            let room = RoomID(unchecked: enquiry.rawValue)
            let (message, replayed) = try await runtime.uploadFile(
                to: room, by: visitor.id.member, name: upload.name, contentType: upload.contentType, bytes: upload.bytes,
                sha256: Array(SHA256.hash(data: upload.bytes)), caption: upload.caption,
                // Apart from their messages' keys (`c:`): a file and a message never answer for each other.
                idempotencyKey: try Self.idempotencyKey(request, body: nil).map { "f:" + $0 })
            // A message from the visitor: the enquiry's idle timer starts again.
            _ = try? await runtime.command(EnquiryCommand.touch, to: enquiry.rawValue, of: EnquiryState.self, by: .visitor(visitor.id.rawValue))
            return JSONBody.response(VisitorMessageResponse(message, room: room, authorName: visitor.profile?.name), status: replayed ? .ok : .created)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ParleyRuntime

/// Turns every error a route throws into a JSON error body with a stable code:
/// `{"error":{"code":"…","message":"…"}}`. Unknown errors become 500 `internal_error` and are
/// logged; their details never reach the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // The router found no route: a known path with another method is a 405.
            if let methods = Gateway.allowedMethods(for: request.uri.path) {
                let allow = methods.map(\.rawValue).joined(separator: ", ")
                var response = Self.response(for: GatewayError(.methodNotAllowed, code: "method_not_allowed", "\(request.uri.path) allows \(allow)"))
                response.headers[.allow] = allow
                return response
            }
            return Self.response(for: GatewayError(.notFound, code: "route_not_found", "no route \(request.method.rawValue) \(request.uri.path)"))
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "route_not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .contentTooLarge: "body_too_large"
                default: "http_\(error.status.code)"
                }
            return Self.response(for: GatewayError(error.status, code: code, error.body ?? error.status.reasonPhrase))
        } catch {
            let refusal = GatewayError(describing: error)
            if refusal.status == .internalServerError {
                context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return Self.response(for: refusal)
        }
    }

    static func response(for error: GatewayError) -> Response {
        JSONBody.response(ErrorEnvelope(error: .init(code: error.code, message: error.message)), status: error.status)
    }
}

/// `{"error":{"code":"…","message":"…"}}`: every refusal's body, written without an encoder
/// (refusals are what a misbehaving client makes many of).
struct ErrorEnvelope: Encodable, JSONWritable {
    struct Detail: Encodable, JSONWritable {
        let code: String
        let message: String

        func write(to writer: inout JSONWriter) {
            writer.object { writer in
                writer.field("code", code)
                writer.field("message", message)
            }
        }
    }
    let error: Detail

    func write(to writer: inout JSONWriter) {
        writer.object { writer in writer.field("error", error) }
    }
}

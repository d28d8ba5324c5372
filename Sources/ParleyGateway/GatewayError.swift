import HTTPTypes
import ParleyDomain
import ParleyRuntime

/// The one error type of ParleyGateway: what a client is told, with an HTTP status and a
/// stable code. Every refusal of the API is one of these.
public struct GatewayError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func invalidJSON(_ message: String) -> GatewayError { GatewayError(.badRequest, code: "invalid_json", message) }
    static func invalidArgument(_ message: String) -> GatewayError { GatewayError(.badRequest, code: "invalid_argument", message) }
    static let unauthenticated = GatewayError(.unauthorized, code: "unauthenticated", "an Authorization: Bearer <token> header is required")
    static let invalidToken = GatewayError(.unauthorized, code: "invalid_token", "the bearer token is not valid")
    static let adminOnly = GatewayError(.forbidden, code: "forbidden", "only an admin may do this")
    static func bodyTooLarge(_ limit: Int) -> GatewayError {
        GatewayError(.contentTooLarge, code: "body_too_large", "the request body is larger than \(limit) bytes")
    }

    /// How any error a request's work threw reads to a client: a refusal as it is, a runtime
    /// error by its kind, anything else a 500 `internal_error` whose details stay on the
    /// server.
    init(describing error: any Error) {
        switch error {
        case let refusal as GatewayError: self = refusal
        case let runtime as RuntimeError: self.init(runtime)
        default: self.init(.internalServerError, code: "internal_error", "the server failed to handle the request")
        }
    }

    /// How a runtime error reads to a client.
    init(_ error: RuntimeError) {
        switch error {
        case let .rejected(domain):
            let status: HTTPResponse.Status =
                switch domain.code.category {
                case .notFound: .notFound
                case .forbidden: .forbidden
                case .conflict: .conflict
                case .invalid: .badRequest
                }
            self.init(status, code: domain.code.rawValue, domain.message)
        case .servedElsewhere:
            self.init(.misdirectedRequest, code: error.code, error.message)
        case let .unavailable(code, message):
            self.init(.serviceUnavailable, code: code, message)
        case let .internalFailure(code, message):
            self.init(.internalServerError, code: code, message)
        }
    }
}

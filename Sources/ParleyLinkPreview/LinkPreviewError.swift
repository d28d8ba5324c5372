/// Why a link could not be previewed; `code` is stable.
public struct LinkPreviewError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Not an absolute http(s) URL.
        case invalidURL = "invalid_url"
        /// The host resolves to a private, loopback, link-local or otherwise internal
        /// address, and the configuration does not allow those.
        case forbiddenAddress = "forbidden_address"
        /// The host name did not resolve.
        case unresolvable = "unresolvable_host"
        /// The whole fetch (name lookup, connection, redirects, body) took too long.
        case timeout = "timeout"
        /// The server answered with an error status or too many redirects.
        case badResponse = "bad_response"
        /// The page is neither HTML nor an image.
        case unsupportedContent = "unsupported_content"
        /// The page says nothing a preview could show.
        case nothingToShow = "nothing_to_show"
        /// The connection failed.
        case fetchFailed = "fetch_failed"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

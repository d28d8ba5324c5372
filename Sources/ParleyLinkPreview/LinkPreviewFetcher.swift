import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyDomain
import ParleyRuntime

/// Settings of link previews; every field has a default.
public struct LinkPreviewConfiguration: Sendable {
    /// Fetch from private, loopback and link-local addresses too (tests, intranets).
    public var allowPrivateAddresses = false
    /// The whole fetch: name lookup, every redirect, the body.
    public var timeout: Duration = .seconds(5)
    /// Only this much of a page is read; metadata lives at its top.
    public var maxPageBytes = 512 * 1_024
    public var maxRedirects = 5
    public var cacheEntries = 1_000
    public var cacheLifetime: Duration = .seconds(3_600)
    /// Failures are remembered for less long, so a page that was down is tried again.
    public var failureLifetime: Duration = .seconds(300)
    public var userAgent = "ParleyLinkPreview/1.0"

    public init() {}
}

/// Fetches web pages for link previews over HTTP(S): every host's addresses are resolved and
/// vetted by `AddressPolicy` before connecting, on the first request and on every redirect;
/// plain-HTTP requests go to the vetted address itself (so a second, different DNS answer
/// cannot redirect them), HTTPS requests by name (the certificate binds the name).
public final class LinkPreviewFetcher: LinkPreviewFetching {
    public let configuration: LinkPreviewConfiguration
    private let client: HTTPClient
    private let cache: LinkPreviewCache

    public init(configuration: LinkPreviewConfiguration = LinkPreviewConfiguration()) {
        self.configuration = configuration
        let timeout = TimeAmount.nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000 + configuration.timeout.components.attoseconds / 1_000_000_000)
        client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout)))
        cache = LinkPreviewCache(capacity: configuration.cacheEntries, lifetime: configuration.cacheLifetime, failureLifetime: configuration.failureLifetime)
    }

    /// The preview of `link`, from the cache when it is there.
    public func preview(of link: String) async throws -> LinkPreview {
        if let cached = cache.outcome(for: link) { return try cached.get() }
        let outcome: Result<LinkPreview, LinkPreviewError>
        do throws(LinkPreviewError) {
            outcome = .success(try await withinTimeout { () async throws(LinkPreviewError) -> LinkPreview in try await self.fetch(link) })
        } catch {
            outcome = .failure(error)
        }
        cache.store(outcome, for: link)
        return try outcome.get()
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    private func withinTimeout(_ body: @escaping @Sendable () async throws(LinkPreviewError) -> LinkPreview) async throws(LinkPreviewError) -> LinkPreview {
        let limit = configuration.timeout
        let result = await withTaskGroup(of: Result<LinkPreview, LinkPreviewError>.self) { group in
            group.addTask {
                do throws(LinkPreviewError) { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return .failure(LinkPreviewError(.timeout, "no preview within \(limit)"))
            }
            let first = await group.next() ?? .failure(LinkPreviewError(.timeout, "cancelled"))
            group.cancelAll()
            return first
        }
        return try result.get()
    }

    private func fetch(_ link: String) async throws(LinkPreviewError) -> LinkPreview {
        guard var current = URL(string: link), ["http", "https"].contains(current.scheme?.lowercased() ?? ""), current.host?.isEmpty == false else {
            throw LinkPreviewError(.invalidURL, "\(link) is not an absolute http(s) URL")
        }
        for _ in 0...configuration.maxRedirects {
            let response = try await request(current)
            if [301, 302, 303, 307, 308].contains(response.status.code) {
                guard let location = response.headers.first(name: "location"), let next = URL(string: location, relativeTo: current)?.absoluteURL,
                    ["http", "https"].contains(next.scheme?.lowercased() ?? "")
                else { throw LinkPreviewError(.badResponse, "a redirect from \(current) without a usable location") }
                current = next
                continue
            }
            guard (200..<300).contains(response.status.code) else {
                throw LinkPreviewError(.badResponse, "\(current) answered \(response.status.code)")
            }
            let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
            let host = current.host ?? ""
            if contentType.hasPrefix("image/") {
                let name = current.lastPathComponent.isEmpty ? host : current.lastPathComponent
                return LinkPreview(url: link, title: PageMetadata.truncate(name, PageMetadata.maxTitleScalars), description: "", imageURL: current.absoluteString, siteName: host)
            }
            guard contentType.hasPrefix("text/html") || contentType.hasPrefix("application/xhtml") else {
                throw LinkPreviewError(.unsupportedContent, "\(current) is \(contentType.isEmpty ? "of no stated type" : contentType)")
            }
            let page = try await read(response.body, contentType: contentType)
            let metadata = PageMetadata.parse(page, pageURL: current)
            guard metadata.title != nil || metadata.description != nil || metadata.image != nil else {
                throw LinkPreviewError(.nothingToShow, "\(current) has no title, description or image")
            }
            return LinkPreview(
                url: link, title: metadata.title ?? host, description: metadata.description ?? "", imageURL: metadata.image,
                siteName: metadata.siteName ?? host)
        }
        throw LinkPreviewError(.badResponse, "more than \(configuration.maxRedirects) redirects from \(link)")
    }

    /// One GET of `url`, after vetting its host's addresses.
    private func request(_ url: URL) async throws(LinkPreviewError) -> HTTPClientResponse {
        let host = (url.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses = try await HostResolver.resolve(host)
        if !configuration.allowPrivateAddresses, let inward = addresses.first(where: { !AddressPolicy.isPublic($0.bytes) }) {
            throw LinkPreviewError(.forbiddenAddress, "\(host) resolves to \(inward.text), an internal address; previews of internal addresses are off")
        }
        var target = url
        if url.scheme?.lowercased() == "http", let vetted = addresses.first(where: { $0.bytes.count == 4 }),
            var components = URLComponents(url: url, resolvingAgainstBaseURL: true)
        {
            components.host = vetted.text
            target = components.url ?? url
        }
        var request = HTTPClientRequest(url: target.absoluteString)
        request.method = .GET
        request.headers.add(name: "host", value: url.port.map { "\(host):\($0)" } ?? host)
        request.headers.add(name: "user-agent", value: configuration.userAgent)
        request.headers.add(name: "accept", value: "text/html,application/xhtml+xml;q=0.9,image/*;q=0.8")
        do {
            return try await client.execute(request, timeout: .seconds(Int64(configuration.timeout.components.seconds) + 1))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw LinkPreviewError(.timeout, "\(url) did not answer in time")
        } catch {
            throw LinkPreviewError(.fetchFailed, "\(url): \(error)")
        }
    }

    /// At most `maxPageBytes` of the body, as text in its declared charset (UTF-8 otherwise).
    private func read(_ body: HTTPClientResponse.Body, contentType: String) async throws(LinkPreviewError) -> String {
        var bytes: [UInt8] = []
        do {
            for try await chunk in body {
                bytes += chunk.readableBytesView.prefix(configuration.maxPageBytes - bytes.count)
                if bytes.count >= configuration.maxPageBytes { break }
            }
        } catch {
            throw LinkPreviewError(.fetchFailed, "reading the page: \(error)")
        }
        if contentType.contains("charset=iso-8859-1") || contentType.contains("charset=windows-1252") {
            return String(bytes: bytes, encoding: .windowsCP1252) ?? String(decoding: bytes, as: UTF8.self)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

import Foundation
import Hummingbird
import NIOCore
import ParleyDomain
import Synchronization
import Testing

@testable import ParleyLinkPreview

/// A local web server on 127.0.0.1, port 0, for the fetcher to preview.
func withPageServer<R: Sendable>(_ body: @Sendable (_ base: String, _ hits: @escaping @Sendable () -> Int) async throws -> R) async throws -> R {
    let hits = Atomic<Int>(0)
    let router = Router()
    router.middlewares.add(CountingMiddleware(hits: { hits.add(1, ordering: .relaxed) }))
    router.get("/article") { _, _ -> Response in
        html(#"<html><head><title>Fallback</title><meta property="og:title" content="An article"><meta property="og:description" content="What it says"><meta property="og:image" content="/cover.png"></head><body>text</body></html>"#)
    }
    router.get("/big") { _, _ -> Response in
        html("<html><head><title>Big page</title></head><body>" + String(repeating: "x", count: 4 << 20) + "</body></html>")
    }
    router.get("/slow") { _, _ -> Response in
        try await Task.sleep(for: .seconds(3))
        return html("<title>Too late</title>")
    }
    router.get("/moved") { _, _ -> Response in
        Response(status: .found, headers: [.location: "/article"])
    }
    router.get("/loop") { _, _ -> Response in
        Response(status: .movedPermanently, headers: [.location: "/loop"])
    }
    router.get("/data.json") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
    }
    router.get("/photo.jpg") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "image/jpeg"], body: .init(byteBuffer: ByteBuffer(bytes: [0xFF, 0xD8, 0xFF])))
    }
    let port = Atomic<Int>(0)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
        port.store(channel.localAddress?.port ?? 0, ordering: .releasing)
    })
    return try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask {
            try await app.run()
            return nil
        }
        for _ in 0..<500 where port.load(ordering: .acquiring) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let base = "http://127.0.0.1:\(port.load(ordering: .acquiring))"
        let result = try await body(base) { hits.load(ordering: .relaxed) }
        group.cancelAll()
        return result
    }
}

struct CountingMiddleware<Context: RequestContext>: RouterMiddleware {
    let hits: @Sendable () -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        hits()
        return try await next(request, context)
    }
}

func html(_ text: String) -> Response {
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
}

@Suite("Link preview fetching", .timeLimit(.minutes(1)))
struct FetcherTests {
    func fetcher(_ adjust: (inout LinkPreviewConfiguration) -> Void = { _ in }) -> LinkPreviewFetcher {
        var configuration = LinkPreviewConfiguration()
        configuration.allowPrivateAddresses = true
        configuration.timeout = .seconds(2)
        adjust(&configuration)
        return LinkPreviewFetcher(configuration: configuration)
    }

    func code(_ body: () async throws -> LinkPreview) async -> LinkPreviewError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as LinkPreviewError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func previewsAPageOnceAndServesRepeatsFromTheCache() async throws {
        try await withPageServer { base, hits in
            let fetcher = fetcher { $0.timeout = .seconds(20) }
            // Shut down whatever happens: a fetcher dropped without it stops the process.
            do {
                let preview = try await fetcher.preview(of: base + "/article")
                #expect(preview == LinkPreview(url: base + "/article", title: "An article", description: "What it says", imageURL: base + "/cover.png", siteName: "127.0.0.1"))
                #expect(try await fetcher.preview(of: base + "/article") == preview)
                #expect(hits() == 1, "the second preview came from the cache")
                let moved = try await fetcher.preview(of: base + "/moved")
                #expect(moved.url == base + "/moved" && moved.title == "An article", "redirects are followed")
                let photo = try await fetcher.preview(of: base + "/photo.jpg")
                #expect(photo.imageURL == base + "/photo.jpg" && photo.title == "photo.jpg")
            } catch {
                Issue.record(error)
            }
            await fetcher.shutdown()
        }
    }

    @Test func internalAddressesAreRefusedUnlessAllowed() async throws {
        try await withPageServer { base, hits in
            let fetcher = fetcher { $0.allowPrivateAddresses = false }
            #expect(await code { try await fetcher.preview(of: base + "/article") } == .forbiddenAddress)
            let port = base.split(separator: ":").last!
            #expect(await code { try await fetcher.preview(of: "http://localhost:\(port)/article") } == .forbiddenAddress)
            #expect(await code { try await fetcher.preview(of: "http://[::1]:\(port)/article") } == .forbiddenAddress)
            #expect(hits() == 0, "nothing reached the local server")
            #expect(await code { try await fetcher.preview(of: "ftp://example.com/x") } == .invalidURL)
            await fetcher.shutdown()
        }
    }

    @Test func sizeCapTimeoutRedirectLoopsAndOtherContent() async throws {
        try await withPageServer { base, _ in
            // The cases that must not time out get a generous limit (the machine may be busy
            // with other tests); the slow page gets a short one. Both fetchers are shut down
            // whatever the expectations found.
            let patient = fetcher { $0.maxPageBytes = 16 * 1_024; $0.timeout = .seconds(20) }
            let quick = fetcher { $0.timeout = .milliseconds(500) }
            let big = try? await patient.preview(of: base + "/big")
            #expect(big?.title == "Big page", "the head is read, the rest is not")
            let started = ContinuousClock.now
            #expect(await code { try await quick.preview(of: base + "/slow") } == .timeout)
            #expect(ContinuousClock.now - started < .seconds(3), "the timeout cut the slow page short")
            #expect(await code { try await patient.preview(of: base + "/loop") } == .badResponse)
            #expect(await code { try await patient.preview(of: base + "/data.json") } == .unsupportedContent)
            #expect(await code { try await patient.preview(of: base + "/missing") } == .badResponse)
            await patient.shutdown()
            await quick.shutdown()
        }
    }
}

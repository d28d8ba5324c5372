import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ParleyDomain
import ParleyNode
import ParleyRuntime
import ServiceLifecycle
import Synchronization
import Testing

/// How a test reaches the API: through the router in memory, or a live server on port 0.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory
    case live

    var setup: TestingSetup { self == .live ? .live : .router }
    var testDescription: String { rawValue }
}

let testToken = "test-admin-token-0123456789"

/// A node on a temp data dir with its log running, tested through `transport`.
func withNode<R: Sendable>(
    _ transport: Transport,
    clock: any WallClock = SystemClock(),
    configure: (inout NodeConfiguration) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol) async throws -> R
) async throws -> R {
    let dir = NSTemporaryDirectory() + "parley-gateway-test-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var configuration = NodeConfiguration()
    configuration.dataDirectory = dir
    configuration.adminToken = testToken
    configuration.partitions = 8
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let node = try ParleyNode(configuration: configuration, logger: logger, clock: clock)
    defer { node.database.close() }
    node.readiness.set(.ready)
    let app = node.application(host: "127.0.0.1", port: 0)
    return try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask {
            try await node.log.run()
            return nil
        }
        group.addTask {
            try await withGracefulShutdownHandler {
                try await node.outbox.run()
            } onGracefulShutdown: {}
            return nil
        }
        // Enquiries need the routing board and their timers.
        let board = RoutingBoardService(runtime: node.runtime, logger: logger)
        let timers = TimerService(runtime: node.runtime, logger: logger)
        group.addTask {
            try await board.run()
            return nil
        }
        group.addTask {
            try await timers.run()
            return nil
        }
        if let previews = node.linkPreviewService {
            group.addTask {
                try await previews.run()
                return nil
            }
        }
        let result = try await app.test(transport.setup, body)
        group.cancelAll()
        node.log.close()
        for try await _ in group {}
        return result
    }
}

extension TestClientProtocol {
    func call(
        _ uri: String, _ method: HTTPRequest.Method, token: String? = testToken, json: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, json: [String: Any], headers: HTTPFields) {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
            return (response.status, object, response.headers)
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
}

/// A wall clock that tests move by hand.
final class ManualClock: WallClock {
    private let current = Mutex(Timestamp(milliseconds: 1_800_000_000_000))

    func now() -> Timestamp { current.withLock { $0 } }

    func advance(seconds: Int64) { current.withLock { $0 = $0.adding(milliseconds: seconds * 1_000) } }
}

extension TestClientProtocol {
    /// Creates a staff member through the API (as the bootstrap admin) and returns their token.
    func staffToken(_ id: String, name: String? = nil) async throws -> String {
        let created = try await call("/v1/staff", .post, json: "{\"id\":\"\(id)\",\"display_name\":\"\(name ?? id)\"}")
        guard created.status == .created, let token = created.json["token"] as? String else {
            throw TestSetupError("could not create staff \(id): \(created.status) \(created.json)")
        }
        return token
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// Polls `uri` (bounded: 100 tries, 20 ms apart) until `done` holds for its JSON.
    func eventually(_ uri: String, token: String?, _ done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<100 {
            last = try await call(uri, .get, token: token).json
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        return last
    }
}

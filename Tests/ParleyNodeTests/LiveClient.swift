import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// A staff member's live WebSocket session against a node process: subscribes to rooms and
/// keeps every frame it receives, parsed, for the test to look through.
final class LiveClient: Sendable {
    let port: Int
    let token: String
    let rooms: [String]
    /// The text frames received, as sent (parsed when looked at).
    private let frames = Mutex<[String]>([])

    init(port: Int, token: String, rooms: [String]) {
        self.port = port
        self.token = token
        self.rooms = rooms
    }

    /// Runs the session until the task is cancelled; calls `ready` after the server's hello.
    func run() async throws {
        let subscribe = #"{"type":"subscribe","rooms":{"# + rooms.map { #""\#($0)":0"# }.joined(separator: ",") + "}}"
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/v1/live?access_token=\(token)", configuration: .init(maxFrameSize: 1 << 22),
            logger: Logger(label: "live-client")
        ) { inbound, outbound, _ in
            try await outbound.write(.text(subscribe))
            for try await message in inbound.messages(maxSize: 1 << 22) {
                guard case let .text(text) = message else { continue }
                self.frames.withLock { $0.append(text) }
            }
        }
    }

    /// Every frame so far.
    var received: [[String: Any]] {
        frames.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The events of `room` received so far, in arrival order.
    func events(of room: String) -> [[String: Any]] {
        received.filter { $0["type"] as? String == "events" && $0["room_id"] as? String == room }
            .flatMap { $0["events"] as? [[String: Any]] ?? [] }
    }

    /// The `staff` frames (badge, room entries, mentions) received so far.
    var staffUpdates: [[String: Any]] { received.filter { $0["type"] as? String == "staff" } }

    /// Polls every 50 ms, for at most `timeout`, until `done` holds; returns whether it did.
    func eventually(timeout: Duration = .seconds(15), _ done: (LiveClient) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if done(self) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return done(self)
    }
}

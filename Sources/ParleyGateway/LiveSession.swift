import Foundation
import Hummingbird
import HummingbirdWebSocket
import ParleyDomain
import NIOCore
import ParleyRuntime
import NIOWebSocket

/// One staff session's WebSocket: it reads subscribe/unsubscribe requests and writes the
/// rooms' events, replaying from the journal what the client missed.
///
/// Client → server: `{"type":"subscribe","rooms":{"<room id>": <last event seq seen>}}`,
/// `{"type":"unsubscribe","rooms":["<room id>"]}`, `{"type":"ping"}`.
/// Server → client: `hello`, `events` (`room_id`, `events`: journal events in order,
/// `notify`: seqs of the messages among them that should alert this staff member),
/// `resync_required` (`room_id`, `resume_from`), `error` (`code`, `message`, `room_id`),
/// `pong`. A session that falls too far behind is closed; it reconnects and resumes.
struct LiveSession {
    let caller: Caller
    let runtime: NodeRuntime
    let hub: LiveHub
    /// Under load, a session writes at most one batch per window: events committed meanwhile
    /// go out together, one frame per room (idle sessions write at once).
    let coalescingWindow: Duration
    static let maxMessageBytes = 1 << 16
    static let replayPageSize = 500

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let subscription = hub.subscribe(staff: caller.staff)
        defer { hub.end(subscription) }
        // The node serving the staff account learns of this session (presence, badge updates).
        await runtime.relay?.attend(caller.staff)
        try await outbound.writeTextMessage(Self.json(ServerMessage(type: "hello", staff: caller.staff.rawValue)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await write(subscription, to: outbound) }
            group.addTask { try await read(inbound, into: subscription, outbound: outbound) }
            // Whichever ends first (the client closed, or the session lagged) ends both.
            try await group.next()
            group.cancelAll()
        }
    }

    private func write(_ subscription: LiveHub.Subscription, to outbound: WebSocketOutboundWriter) async throws {
        var state = LiveSessionState(staff: caller.staff)
        try await subscription.forEachBatch(coalescing: coalescingWindow) { items in
            var outputs: [LiveSessionState.Output] = []
            outputs.reserveCapacity(items.count)
            for item in items {
                for room in state.handle(item, into: &outputs) {
                    hub.unfollow(room, by: subscription)
                }
            }
            for frame in Self.frames(outputs) {
                try await Self.writeText(frame, to: outbound)
            }
        }
        if subscription.hasLagged {
            try await outbound.close(.policyViolation, reason: "session fell behind; reconnect and resume")
        }
    }

    /// The frames for a batch of outputs: consecutive events of one room go out as one
    /// `events` frame (a burst of commits costs the client one frame, not one per commit).
    /// A frame made only of published batches is kept on its last batch, so the other
    /// sessions that drain the same run with the same `notify` write the same bytes.
    static func frames(_ outputs: [LiveSessionState.Output]) -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        // A run of one room's events: the pieces are encoded only if the frame is not kept.
        var run: (room: RoomID, pieces: [(entries: [JournalEntry], shared: EventBatch?)], notify: [UInt64], first: UInt64, allShared: Bool)?
        func flush() {
            guard let pending = run else { return }
            run = nil
            let make = {
                eventsMessage(room: pending.room, parts: pending.pieces.map { piece in
                    // The array's inside, to join with the run's other pieces.
                    Substring((piece.shared?.encoded(by: encodeEvents) ?? encodeEvents(piece.entries)).utf8.dropFirst().dropLast()).utf8
                }.filter { !$0.isEmpty }, notify: pending.notify)
            }
            if pending.allShared, let last = pending.pieces.last?.shared {
                frames.append(last.frame(from: pending.first, notify: pending.notify, make: make))
            } else {
                frames.append(make())
            }
        }
        for output in outputs {
            switch output {
            case let .events(room, entries, shared, notify):
                if run?.room != room { flush() }
                if run == nil { run = (room, [], [], entries.first?.eventSeq ?? 0, true) }
                run?.pieces.append((entries, shared))
                run?.notify += notify
                if shared == nil { run?.allShared = false }
            case let .resyncRequired(room, resumeFrom):
                flush()
                frames.append(ByteBuffer(string: json(ServerMessage(type: "resync_required", roomID: room.rawValue, resumeFrom: resumeFrom))))
            case let .staffUpdated(unreadRooms, rooms, mentions):
                flush()
                frames.append(ByteBuffer(string: json(ServerMessage(
                    type: "staff", unreadRooms: unreadRooms,
                    rooms: rooms.map { RoomEntryResponse(room: $0.key, entry: $0.value) }.sorted { $0.roomID < $1.roomID },
                    mentions: mentions.map(MentionResponse.init)))))
            case let .refused(room, code, message):
                flush()
                frames.append(ByteBuffer(string: json(ServerMessage(type: "error", roomID: room.rawValue, code: code, message: message))))
            }
        }
        flush()
        return frames
    }

    /// A JSON array of events, as the REST API writes them.
    static func encodeEvents(_ entries: [JournalEntry]) -> String {
        var writer = JSONWriter(capacity: entries.count * 384)
        writer.array(entries) { writer, entry in EventResponse(entry).write(to: &writer) }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Writes one text message, the buffer shared, not copied; split into continuation
    /// frames past the WebSocket frame size.
    static func writeText(_ message: ByteBuffer, to outbound: WebSocketOutboundWriter) async throws {
        var rest = message
        var opcode = WebSocketOpcode.text
        while rest.readableBytes > maxFrameBytes, let slice = rest.readSlice(length: maxFrameBytes) {
            try await outbound.write(.custom(WebSocketFrame(fin: false, opcode: opcode, data: slice)))
            opcode = .continuation
        }
        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: opcode, data: rest)))
    }

    /// The largest frame written (the server's default frame size limit).
    static let maxFrameBytes = 1 << 14

    private func read(_ inbound: WebSocketInboundStream, into subscription: LiveHub.Subscription, outbound: WebSocketOutboundWriter) async throws {
        for try await message in inbound.messages(maxSize: Self.maxMessageBytes) {
            guard case let .text(text) = message, let request = try? JSONDecoder().decode(ClientMessage.self, from: Data(text.utf8)) else {
                try await outbound.writeTextMessage(Self.json(ServerMessage(type: "error", code: "invalid_message", message: "expected a JSON object with a type")))
                continue
            }
            switch request.type {
            case "subscribe":
                for (raw, after) in (request.rooms ?? [:]).sorted(by: { $0.key < $1.key }) {
                    guard let room = RoomID(rawValue: raw) else {
                        subscription.send(.refused(RoomID(unchecked: "invalid"), code: "invalid_argument", message: "\(raw) is not a room id"))
                        continue
                    }
                    await follow(room, after: after, subscription)
                }
            case "unsubscribe":
                for raw in request.roomList ?? [] {
                    if let room = RoomID(rawValue: raw) { hub.unfollow(room, by: subscription) }
                }
            case "ping":
                try await outbound.writeTextMessage(Self.json(ServerMessage(type: "pong")))
            default:
                try await outbound.writeTextMessage(Self.json(ServerMessage(type: "error", code: "invalid_message", message: "unknown type \(request.type)")))
            }
        }
    }

    /// Follows `room` live, then replays its journal after `after`: live events arriving
    /// meanwhile wait in the session's state until the replay is written.
    private func follow(_ room: RoomID, after: UInt64, _ subscription: LiveHub.Subscription) async {
        do {
            _ = try await runtime.room(room, reader: caller.staff)
        } catch {
            subscription.send(.refused(room, code: error.code, message: error.message))
            return
        }
        subscription.send(.subscribing(room, after: after))
        guard hub.follow(room, by: subscription) else {
            subscription.send(.refused(room, code: "too_many_rooms", message: "a session follows at most 1000 rooms"))
            return
        }
        // Events the room commits from here on reach this node before its journal is read.
        await runtime.relay?.follow(room)
        var cursor = after
        var first = true
        for _ in 0..<10_000 {
            do {
                let (entries, oldest) = try await runtime.journal(of: room, reader: caller.staff, after: cursor, limit: Self.replayPageSize)
                let resync = first && (oldest.map { $0 > after + 1 } ?? false)
                let complete = entries.count < Self.replayPageSize
                subscription.send(.replayed(room, entries, complete: complete, resyncRequired: resync))
                first = false
                if complete { return }
                cursor = entries[entries.count - 1].eventSeq
            } catch {
                subscription.send(.refused(room, code: error.code, message: error.message))
                return
            }
        }
    }

    /// `{"events":[…],"notify":[…],"room_id":"…","type":"events"}`, around encoded events
    /// (each part the inside of an encoded array).
    static func eventsMessage(room: RoomID, parts: [Substring.UTF8View], notify: [UInt64]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(parts.reduce(96 + room.rawValue.utf8.count + notify.count * 8) { $0 + $1.count + 1 })
        buffer.writeStaticString(#"{"events":["#)
        for (index, part) in parts.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeBytes(part)
        }
        buffer.writeStaticString(#"],"notify":["#)
        for (index, seq) in notify.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeString(String(seq))
        }
        buffer.writeStaticString(#"],"room_id":"#)
        // Well-formed ids need no escaping; anything else goes through the encoder.
        if RoomID.isValid(room.rawValue) {
            buffer.writeStaticString("\"")
            buffer.writeString(room.rawValue)
            buffer.writeStaticString("\"")
        } else {
            buffer.writeString(json(room.rawValue))
        }
        buffer.writeStaticString(#","type":"events"}"#)
        return buffer
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"type":"error","code":"internal_error"}"#
    }
}

/// What a client sends.
struct ClientMessage: Decodable {
    let type: String
    let rooms: [String: UInt64]?
    let roomList: [String]?

    enum CodingKeys: String, CodingKey {
        case type, rooms
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        rooms = try? container.decode([String: UInt64].self, forKey: .rooms)
        roomList = try? container.decode([String].self, forKey: .rooms)
    }
}

/// What the server sends.
struct ServerMessage: Encodable {
    var type: String
    var staff: String?
    var roomID: String?
    var resumeFrom: UInt64?
    var code: String?
    var message: String?
    var unreadRooms: Int?
    var rooms: [RoomEntryResponse]?
    var mentions: [MentionResponse]?

    enum CodingKeys: String, CodingKey {
        case type, staff, code, message, rooms, mentions
        case roomID = "room_id"
        case resumeFrom = "resume_from"
        case unreadRooms = "unread_rooms"
    }
}

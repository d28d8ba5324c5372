import Foundation
import NIOCore
import ParleyDomain
import ParleyRuntime

/// One step of a live session's work, in the order the client asked: the session's own
/// start (`attend`), then each message the client sent.
enum LiveRequest: Sendable, Equatable {
    /// Tell the node serving the staff account of this session (presence, badge updates),
    /// then say hello.
    case attend
    /// Follow rooms, each from just after the seq given (in room id order).
    case subscribe([LiveRoomCursor])
    case unsubscribe([String])
    case ping
    case unknown(type: String)
    /// Not a JSON object with a type, or not text.
    case invalid

    /// The request a complete client message makes.
    init(message: ByteBuffer, isText: Bool) {
        guard isText, let decoded = try? JSONDecoder().decode(ClientMessage.self, from: Data(message.readableBytesView)) else {
            self = .invalid
            return
        }
        switch decoded.type {
        case "subscribe":
            self = .subscribe((decoded.rooms ?? [:]).sorted { $0.key < $1.key }.map { LiveRoomCursor(room: $0.key, after: $0.value) })
        case "unsubscribe":
            self = .unsubscribe(decoded.roomList ?? [])
        case "ping":
            self = .ping
        default:
            self = .unknown(type: decoded.type)
        }
    }

    /// Whether the request needs asynchronous work (a step of `LiveSessionWork`).
    var isAsynchronous: Bool {
        switch self {
        case .attend, .subscribe: true
        case .unsubscribe, .ping, .unknown, .invalid: false
        }
    }
}

/// A room to follow and the last event seq the client saw of it.
struct LiveRoomCursor: Sendable, Equatable {
    let room: String
    let after: UInt64
}

/// The asynchronous steps of a live session: what `LiveSessionWork` runs for it.
struct LiveSteps: Sendable {
    let caller: Caller
    let runtime: NodeRuntime
    let hub: LiveHub
    static let replayPageSize = 500

    /// The node serving the staff account learns of this session.
    func attend() async {
        await runtime.relay?.attend(caller.staff)
    }

    /// Follows each room in turn (see `follow`).
    func subscribe(_ cursors: [LiveRoomCursor], _ subscription: LiveHub.Subscription) async {
        for cursor in cursors where !subscription.hasEnded {
            guard let room = RoomID(rawValue: cursor.room) else {
                subscription.send(.refused(RoomID(unchecked: "invalid"), code: "invalid_argument", message: "\(cursor.room) is not a room id"))
                continue
            }
            await follow(room, after: cursor.after, subscription)
        }
    }

    /// Follows `room` live, then replays its journal after `after`: live events arriving
    /// meanwhile wait in the session's state until the replay is written.
    func follow(_ room: RoomID, after: UInt64, _ subscription: LiveHub.Subscription) async {
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
        for _ in 0..<10_000 where !subscription.hasEnded {
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
}

import Foundation
import NIOCore
import ParleyDomain
import ParleyRuntime

/// The live WebSocket's messages. Client → server: `{"type":"subscribe","rooms":{"<room
/// id>": <last event seq seen>}}`, `{"type":"unsubscribe","rooms":["<room id>"]}`,
/// `{"type":"ping"}`. Server → client: `hello`, `events` (`room_id`, `events`: journal events
/// in order, `notify`: seqs of the messages among them that should alert this staff member),
/// `staff` (badge and room entries), `enquiry.*` (`EnquiryNoticeMessage`), `resync_required`
/// (`room_id`, `resume_from`), `error` (`code`, `message`, `room_id`), `pong`.
enum LiveFrames {
    /// The messages for a batch of outputs, framed (`framed(_:)`) and ready to write:
    /// consecutive events of one room go out as one `events` message (a burst of commits costs
    /// the client one message, not one per commit). A message made only of published batches
    /// is kept on its last batch, so the other sessions that drain the same run with the same
    /// `notify` write the same bytes.
    static func frames(_ outputs: [LiveSessionState.Output]) -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        // A run of one room's events: the pieces are encoded only if the frame is not kept.
        var run: (room: RoomID, pieces: [(entries: [JournalEntry], shared: EventBatch?)], notify: [UInt64], first: UInt64, allShared: Bool)?
        func flush() {
            guard let pending = run else { return }
            run = nil
            let make = {
                framed(eventsMessage(room: pending.room, parts: pending.pieces.map { piece in
                    // The array's inside, to join with the run's other pieces.
                    Substring((piece.shared?.encoded(by: encodeEvents) ?? encodeEvents(piece.entries)).utf8.dropFirst().dropLast()).utf8
                }.filter { !$0.isEmpty }, notify: pending.notify))
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
                frames.append(framed(json(ServerMessage(type: "resync_required", roomID: room.rawValue, resumeFrom: resumeFrom))))
            case let .staffUpdated(unreadRooms, rooms, mentions, shared):
                flush()
                frames.append(shared.bytes {
                    framed(json(ServerMessage(
                        type: "staff", unreadRooms: unreadRooms,
                        rooms: rooms.map { RoomEntryResponse(room: $0.key, entry: $0.value) }.sorted { $0.roomID < $1.roomID },
                        mentions: mentions.map(MentionResponse.init))))
                })
            case let .enquiries(notices):
                flush()
                for notice in notices { frames.append(framed(json(EnquiryNoticeMessage(notice)))) }
            case let .refused(room, code, message):
                flush()
                frames.append(framed(json(ServerMessage(type: "error", roomID: room.rawValue, code: code, message: message))))
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

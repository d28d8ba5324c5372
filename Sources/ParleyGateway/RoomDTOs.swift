import Foundation
import ParleyDomain

/// `POST /v1/rooms`.
struct CreateRoomRequest: Decodable {
    var kind: String?
    var name: String
    var description: String?
    var visibility: String?
    var members: [String]?
}

/// `POST /v1/rooms/{roomID}/messages`.
struct PostMessageRequest: Decodable {
    var text: String
    var idempotencyKey: String?

    enum CodingKeys: String, CodingKey {
        case text
        case idempotencyKey = "idempotency_key"
    }
}

struct RoomResponse: Encodable {
    let id: String
    let kind: String
    let name: String
    let description: String
    let visibility: String
    let createdBy: String
    let createdAt: String
    let members: [String]
    let lastSeq: UInt64

    enum CodingKeys: String, CodingKey {
        case id, kind, name, description, visibility, members
        case createdBy = "created_by"
        case createdAt = "created_at"
        case lastSeq = "last_seq"
    }

    init(_ state: RoomState) {
        let profile = state.profile
        id = state.id.rawValue
        kind = profile?.kind.name ?? "space"
        name = profile?.name ?? ""
        description = profile?.description ?? ""
        visibility = profile?.visibility.name ?? "private"
        createdBy = profile?.createdBy.rawValue ?? ""
        createdAt = profile.map { Self.format($0.createdAt) } ?? ""
        members = state.members.map(\.rawValue).sorted()
        lastSeq = state.lastSeq
    }

    static func format(_ timestamp: Timestamp) -> String {
        Date(timeIntervalSince1970: Double(timestamp.milliseconds) / 1_000)
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

struct MessageResponse: Encodable {
    let roomID: String
    let seq: UInt64
    let author: String
    let text: String
    let postedAt: String
    let idempotencyKey: String?

    enum CodingKeys: String, CodingKey {
        case seq, author, text
        case roomID = "room_id"
        case postedAt = "posted_at"
        case idempotencyKey = "idempotency_key"
    }

    init(_ message: Message, room: RoomID) {
        roomID = room.rawValue
        seq = message.seq
        author = message.author.rawValue
        text = message.text
        postedAt = RoomResponse.format(message.postedAt)
        idempotencyKey = message.idempotencyKey
    }
}

struct HistoryResponse: Encodable {
    let roomID: String
    let messages: [MessageResponse]

    enum CodingKeys: String, CodingKey {
        case messages
        case roomID = "room_id"
    }
}

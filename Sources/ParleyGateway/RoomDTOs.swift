import Foundation
import ParleyDomain

/// `POST /v1/rooms`.
struct CreateRoomRequest: RequestBody {
    var kind: String?
    /// Required for spaces and conferences; direct rooms have none.
    var name: String?
    var description: String?
    var visibility: String?
    var members: [String]?

    init(_ fields: JSONFields) throws(GatewayError) {
        kind = try fields.optionalString("kind")
        name = try fields.optionalString("name")
        description = try fields.optionalString("description")
        visibility = try fields.optionalString("visibility")
        members = try fields.optionalStrings("members")
    }
}

/// `PATCH /v1/rooms/{roomID}`.
struct UpdateRoomRequest: RequestBody {
    var name: String?
    var description: String?
    var visibility: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        name = try fields.optionalString("name")
        description = try fields.optionalString("description")
        visibility = try fields.optionalString("visibility")
    }
}

/// `POST /v1/rooms/{roomID}/messages`.
struct PostMessageRequest: RequestBody {
    var text: String
    var idempotencyKey: String?
    var replyTo: UInt64?

    init(_ fields: JSONFields) throws(GatewayError) {
        text = try fields.string("text")
        idempotencyKey = try fields.optionalString("idempotency_key")
        replyTo = try fields.optionalUnsignedInteger("reply_to")
    }
}

/// `PATCH /v1/rooms/{roomID}/messages/{seq}`.
struct EditMessageRequest: RequestBody {
    var text: String

    init(_ fields: JSONFields) throws(GatewayError) { text = try fields.string("text") }
}

/// `POST /v1/rooms/{roomID}/messages/{seq}/forward`.
struct ForwardMessageRequest: RequestBody {
    var toRoom: String
    var text: String?
    var idempotencyKey: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        toRoom = try fields.string("to_room")
        text = try fields.optionalString("text")
        idempotencyKey = try fields.optionalString("idempotency_key")
    }
}

/// `POST /v1/rooms/{roomID}/read`.
struct MarkReadRequest: RequestBody {
    var seq: UInt64

    init(_ fields: JSONFields) throws(GatewayError) { seq = try fields.unsignedInteger("seq") }
}

/// `PUT /v1/rooms/{roomID}/settings`.
struct RoomSettingsRequest: RequestBody {
    var mute: String

    init(_ fields: JSONFields) throws(GatewayError) { mute = try fields.string("mute") }
}

/// `POST /v1/rooms/{roomID}/members`.
struct AddMembersRequest: RequestBody {
    var members: [String]

    init(_ fields: JSONFields) throws(GatewayError) { members = try fields.strings("members") }
}

struct RoomResponse: Encodable {
    struct Me: Encodable {
        let readSeq: UInt64
        let unreadCount: UInt64
        let mute: String

        enum CodingKeys: String, CodingKey {
            case mute
            case readSeq = "read_seq"
            case unreadCount = "unread_count"
        }
    }

    let id: String
    let kind: String
    let name: String
    let description: String
    let visibility: String
    let createdBy: String
    let createdAt: String
    let members: [String]
    let lastSeq: UInt64
    let lastEventSeq: UInt64
    let me: Me?
    let information: InformationResponse?

    enum CodingKeys: String, CodingKey {
        case id, kind, name, description, visibility, members, me, information
        case createdBy = "created_by"
        case createdAt = "created_at"
        case lastSeq = "last_seq"
        case lastEventSeq = "last_event_seq"
    }

    init(_ state: RoomState, for reader: StaffID?) {
        let profile = state.profile
        id = state.id.rawValue
        kind = profile?.kind.name ?? "space"
        name = profile?.name ?? ""
        description = profile?.description ?? ""
        visibility = profile?.visibility.name ?? "private"
        createdBy = profile?.createdBy.rawValue ?? ""
        createdAt = profile.map { Self.format($0.createdAt) } ?? ""
        members = state.members.keys.map(\.rawValue).sorted()
        lastSeq = state.lastSeq
        lastEventSeq = state.lastEventSeq
        information = state.information.isEmpty ? nil : InformationResponse(state.information)
        me = reader.flatMap { reader in
            state.members[reader].map { Me(readSeq: $0.readSeq, unreadCount: state.unreadCount(for: reader), mute: $0.mute.name) }
        }
    }

    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC, as `Date.ISO8601FormatStyle` with fractional
    /// seconds writes it, computed directly for years 1970 to 9999 (civil-from-days).
    static func format(_ timestamp: Timestamp) -> String {
        let milliseconds = timestamp.milliseconds
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000 else {
            return Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
                .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        var rest = milliseconds % 86_400_000
        let (year, month, day) = Timestamp.civilDate(days: milliseconds / 86_400_000)
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4); bytes.append(UInt8(ascii: "-")); digits(month, 2); bytes.append(UInt8(ascii: "-")); digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(rest / 3_600_000, 2); rest %= 3_600_000; bytes.append(UInt8(ascii: ":"))
        digits(rest / 60_000, 2); rest %= 60_000; bytes.append(UInt8(ascii: ":"))
        digits(rest / 1_000, 2); bytes.append(UInt8(ascii: ".")); digits(rest % 1_000, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct QuoteResponse: Encodable {
    let roomID: String
    let seq: UInt64
    let author: String
    let excerpt: String

    enum CodingKeys: String, CodingKey {
        case seq, author, excerpt
        case roomID = "room_id"
    }

    init(_ quote: Quote) {
        roomID = quote.reference.room.rawValue
        seq = quote.reference.seq
        author = quote.author.rawValue
        excerpt = quote.excerpt
    }
}

struct MessageResponse: Encodable {
    let roomID: String
    let seq: UInt64
    let author: String
    let text: String
    let postedAt: String
    let idempotencyKey: String?
    let replyTo: QuoteResponse?
    let forwardedFrom: QuoteResponse?
    let mentions: [String]
    let mentionsAll: Bool
    let editedAt: String?
    let recalled: Bool
    let recalledAt: String?
    let attachment: AttachmentResponse?
    let quickLink: ShortcutResponse?
    let linkPreviews: [LinkPreviewResponse]

    enum CodingKeys: String, CodingKey {
        case seq, author, text, mentions, recalled, attachment
        case quickLink = "quick_link"
        case linkPreviews = "link_previews"
        case roomID = "room_id"
        case postedAt = "posted_at"
        case idempotencyKey = "idempotency_key"
        case replyTo = "reply_to"
        case forwardedFrom = "forwarded_from"
        case mentionsAll = "mentions_all"
        case editedAt = "edited_at"
        case recalledAt = "recalled_at"
    }

    init(_ message: Message, room: RoomID) {
        roomID = room.rawValue
        seq = message.seq
        author = message.author.rawValue
        text = message.text
        postedAt = RoomResponse.format(message.postedAt)
        idempotencyKey = message.idempotencyKey
        replyTo = message.replyTo.map(QuoteResponse.init)
        forwardedFrom = message.forwardedFrom.map(QuoteResponse.init)
        mentions = message.mentions.map(\.rawValue)
        mentionsAll = message.mentionsAll
        editedAt = message.editedAt.map(RoomResponse.format)
        recalled = message.isRecalled
        recalledAt = message.recalledAt.map(RoomResponse.format)
        attachment = message.attachment.map { AttachmentResponse($0, room: room) }
        quickLink = message.quickLink.map(ShortcutResponse.init)
        linkPreviews = message.linkPreviews.map(LinkPreviewResponse.init)
    }
}

/// A linked page's preview under a message.
struct LinkPreviewResponse: Encodable {
    let url: String
    let title: String
    let description: String
    let imageURL: String?
    let siteName: String?

    enum CodingKeys: String, CodingKey {
        case url, title, description
        case imageURL = "image_url"
        case siteName = "site_name"
    }

    init(_ preview: LinkPreview) {
        url = preview.url
        title = preview.title
        description = preview.description
        imageURL = preview.imageURL
        siteName = preview.siteName
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

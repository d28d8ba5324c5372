import ParleyDomain
import ParleyRuntime

/// `POST /v1/visitor/sessions`: a visitor of a widget or weblink channel signs in
/// anonymously, with what the page knows of them.
struct VisitorSessionRequest {
    var channel: ChannelID
    var name: String?
    var email: String?
    var information: RoomInformation

    init(_ fields: JSONFields) throws(GatewayError) {
        guard let channel = ChannelID(rawValue: try fields.string("channel_id")) else {
            throw GatewayError.invalidArgument("a channel id has 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        self.channel = channel
        name = try fields.optionalString("name")
        email = try fields.optionalString("email")
        var information = RoomInformation()
        information.visitor = try Self.pairs(fields.optionalObject("fields"), "fields")
        information.utm = try Self.pairs(fields.optionalObject("utm"), "utm")
        if let device = try fields.optionalObject("device") {
            information.device = DeviceInfo(
                platform: try device.optionalString("platform") ?? "", userAgent: try device.optionalString("user_agent") ?? "",
                screenSize: try device.optionalString("screen_size") ?? "", localTime: try device.optionalString("local_time") ?? "",
                geoLocation: try device.optionalString("geo_location") ?? "")
        }
        self.information = information
    }

    /// A flat object of strings, as named fields in name order.
    private static func pairs(_ fields: JSONFields?, _ name: String) throws(GatewayError) -> [RoomInformation.Field] {
        guard let fields else { return [] }
        var pairs: [RoomInformation.Field] = []
        for key in fields.values.keys.sorted() {
            guard let value = try fields.optionalString(key) else { continue }
            pairs.append(RoomInformation.Field(name: key, value: value))
        }
        guard pairs.count <= 100 else { throw GatewayError.invalidArgument("at most 100 \(name)") }
        return pairs
    }
}

struct VisitorSessionResponse: Encodable {
    let visitorID: String
    let token: String
    let channelID: String
    let name: String

    enum CodingKeys: String, CodingKey {
        case token, name
        case visitorID = "visitor_id"
        case channelID = "channel_id"
    }
}

/// The visitor's view of themselves and their open enquiry.
struct VisitorResponse: Encodable {
    let visitorID: String
    let name: String
    let channelID: String
    let enquiry: VisitorEnquiryResponse?

    enum CodingKeys: String, CodingKey {
        case name, enquiry
        case visitorID = "visitor_id"
        case channelID = "channel_id"
    }
}

/// An enquiry as its visitor sees it: where it stands, who serves them (in the source's
/// display-name format), their place in the queue.
struct VisitorEnquiryResponse: Encodable {
    let enquiryID: String
    let roomID: String
    let status: String
    let staffName: String?
    let queuePosition: Int?

    enum CodingKeys: String, CodingKey {
        case status
        case enquiryID = "enquiry_id"
        case roomID = "room_id"
        case staffName = "staff_name"
        case queuePosition = "queue_position"
    }
}

/// A message of the visitor's conversation: who wrote it as the visitor sees them.
struct VisitorMessageResponse: Encodable {
    let seq: UInt64
    let sender: String
    let authorName: String?
    let text: String
    let postedAt: String
    let recalled: Bool
    let attachment: AttachmentResponse?

    enum CodingKeys: String, CodingKey {
        case seq, sender, text, recalled, attachment
        case authorName = "author_name"
        case postedAt = "posted_at"
    }

    init(_ message: Message, room: RoomID, authorName: String?) {
        seq = message.seq
        sender = message.author.senderKind
        self.authorName = authorName
        text = message.text
        postedAt = RoomResponse.format(message.postedAt)
        recalled = message.isRecalled
        attachment = message.attachment.map { AttachmentResponse($0, room: room) }
    }
}

struct VisitorMessagesResponse: Encodable {
    let enquiryID: String?
    let roomID: String?
    let messages: [VisitorMessageResponse]

    enum CodingKeys: String, CodingKey {
        case messages
        case enquiryID = "enquiry_id"
        case roomID = "room_id"
    }
}

/// `GET /v1/widget/{channelID}`: what the widget shows before anyone writes: the source's
/// destinations (tags) and their staff (the staff directory) with their availability now.
struct WidgetDirectoryResponse: Encodable {
    struct Destination: Encodable {
        let id: String
        let name: String
        let available: Bool
    }

    struct Staff: Encodable {
        let id: String
        let displayName: String
        let availability: String

        enum CodingKeys: String, CodingKey {
            case id, availability
            case displayName = "display_name"
        }
    }

    let channelID: String
    let name: String
    let kind: String
    let destinations: [Destination]
    let staff: [Staff]

    enum CodingKeys: String, CodingKey {
        case name, kind, destinations, staff
        case channelID = "channel_id"
    }

    init(_ channel: ChannelState, _ directory: WidgetDirectory) {
        channelID = channel.id.rawValue
        name = channel.profile?.name ?? ""
        kind = channel.profile?.kind.name ?? ""
        destinations = directory.destinations.map { Destination(id: $0.id.rawValue, name: $0.name, available: $0.available) }
        staff = directory.staff.map { Staff(id: $0.id.rawValue, displayName: $0.displayName, availability: $0.availability.name) }
    }
}

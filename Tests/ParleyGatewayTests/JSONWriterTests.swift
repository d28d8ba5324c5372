import Foundation
import ParleyDomain
@testable import ParleyRuntime
import Testing

@testable import ParleyGateway

/// The hand-written JSON of the hot path must be byte for byte what the encoder writes.
@Suite("JSON writer")
struct JSONWriterTests {
    static func encoded<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let room = RoomID(unchecked: "r_1")
    static let tricky = "quote \" backslash \\ slash / tab \t newline \n cr \r \u{1}\u{1f}\u{8}\u{c} é 😀 \u{2028} end"

    static func messages() -> [Message] {
        var full = Message(
            seq: 42, author: StaffID(unchecked: "bo"), text: tricky, postedAt: Timestamp(milliseconds: 1_790_000_000_123), idempotencyKey: "k-1",
            replyTo: Quote(reference: MessageReference(room: room, seq: 3), author: StaffID(unchecked: "cy"), excerpt: "earlier \"words\""),
            forwardedFrom: Quote(reference: MessageReference(room: RoomID(unchecked: "r_2"), seq: 9), author: StaffID(unchecked: "dee"), excerpt: ""),
            mentions: [StaffID(unchecked: "cy"), StaffID(unchecked: "dee")], mentionsAll: true, editedAt: Timestamp(milliseconds: 1_790_000_001_000),
            attachment: FileAttachment(id: "f_1", name: "plan \"v2\".pdf", contentType: "application/pdf", size: 12_345, sha256: Array(0..<32), chunkCount: 1))
        full.quickLink = Shortcut(code: "web-link", kind: .link, title: "Site", value: "https://example.com/a?b=c")
        full.linkPreviews = [
            LinkPreview(url: "https://example.com", title: "Example", description: "An \"example\"", imageURL: "https://example.com/i.png", siteName: nil)
        ]
        var recalled = Message(seq: 7, author: StaffID(unchecked: "bo"), text: "", postedAt: Timestamp(milliseconds: 0), idempotencyKey: nil)
        recalled.recalledAt = Timestamp(milliseconds: 951_782_400_999)  // 2000-02-29
        return [full, recalled, Message(seq: 1, author: StaffID(unchecked: "a"), text: "plain", postedAt: Timestamp(milliseconds: 1), idempotencyKey: nil)]
    }

    @Test func messagesAreWrittenAsTheEncoderWritesThem() throws {
        for message in Self.messages() {
            let response = MessageResponse(message, room: Self.room)
            #expect(String(decoding: response.jsonBytes, as: UTF8.self) == (try Self.encoded(response)))
        }
    }

    @Test func eventsAreWrittenAsTheEncoderWritesThem() throws {
        let profile = RoomProfile(kind: .space, name: "Team \"A\"", description: "desc\n", visibility: .public, createdBy: StaffID(unchecked: "bo"), createdAt: Timestamp(milliseconds: 5))
        let events: [RoomEvent] = [
            .created(profile, members: [StaffID(unchecked: "bo"), StaffID(unchecked: "cy")]),
            .messagePosted(Self.messages()[0]), .messageEdited(Self.messages()[2]), .messageRecalled(Self.messages()[1], removedFile: "f_1"),
            .readPointerMoved(StaffID(unchecked: "cy"), seq: 4), .muteChanged(StaffID(unchecked: "cy"), .mentionsOnly),
            .membersAdded([StaffID(unchecked: "dee")], by: StaffID(unchecked: "bo"), joinedAt: Timestamp(milliseconds: 9), readSeq: 2),
            .memberRemoved(StaffID(unchecked: "dee"), by: StaffID(unchecked: "bo")), .profileUpdated(profile), .informationUpdated(RoomInformation()),
        ]
        for (index, event) in events.enumerated() {
            let response = EventResponse(JournalEntry(room: Self.room, eventSeq: UInt64(index + 1), event: event))
            #expect(String(decoding: response.jsonBytes, as: UTF8.self) == (try Self.encoded(response)))
        }
    }

    @Test func historyAndJournalPagesAreWrittenAsTheEncoderWritesThem() throws {
        let messages = Self.messages().map { MessageResponse($0, room: Self.room) }
        for page in [messages, [], Array(messages.prefix(1))] {
            let history = HistoryResponse(roomID: Self.room.rawValue, messages: page)
            #expect(String(decoding: history.jsonBytes, as: UTF8.self) == (try Self.encoded(history)))
        }
        let events = Self.messages().enumerated().map { index, message in
            EventResponse(JournalEntry(room: Self.room, eventSeq: UInt64(index + 1), event: .messagePosted(message)))
        }
        for (page, oldest) in [(events, UInt64?.some(1)), ([], nil), (Array(events.suffix(1)), 3)] {
            let journal = JournalResponse(roomID: Self.room.rawValue, events: page, oldestKept: oldest)
            #expect(String(decoding: journal.jsonBytes, as: UTF8.self) == (try Self.encoded(journal)))
        }
    }

    @Test func roomsAreWrittenAsTheEncoderWritesThem() throws {
        let bo = StaffID(unchecked: "bo"), cy = StaffID(unchecked: "cy")
        var room = RoomState(id: Self.room)
        room.apply(.created(
            RoomProfile(kind: .space, name: "Team \"A\"", description: Self.tricky, visibility: .public, createdBy: bo, createdAt: Timestamp(milliseconds: 5)),
            members: [bo, cy]))
        room.apply(.messagePosted(Self.messages()[2]))
        room.apply(.muteChanged(cy, .mentionsOnly))
        let full = RoomInformation(
            enquiry: EnquiryInfo(id: "e_1", channel: "whatsapp", channelDetail: "+1 555", language: "fr", location: "Lyon", time: Timestamp(milliseconds: 1_790_000_000_123)),
            visitor: [.init(name: "plan", value: "gold \"vip\""), .init(name: "tier", value: "")],
            device: DeviceInfo(platform: "iOS", userAgent: Self.tricky, screenSize: "390x844", localTime: "10:00", geoLocation: "45.7,4.8"),
            utm: [.init(name: "utm_source", value: "news")],
            destination: DestinationInfo(name: "Sales", type: "team", endpoint: "sales@example.com"),
            contact: ContactInfo(firstName: "Ana", lastName: "Lee", phone: "+33 1", email: "ana@example.com", timezone: "Europe/Paris"),
            conference: ConferenceInfo(host: bo, participants: ["cy", "guest \"x\""]))
        var informed = room
        informed.apply(.informationUpdated(full))
        var partly = room
        partly.apply(.informationUpdated(RoomInformation(contact: ContactInfo(email: "a@b.c"))))
        let rooms = [RoomState(id: RoomID(unchecked: "r_none")), room, informed, partly]
        for state in rooms {
            for reader in [bo, cy, StaffID(unchecked: "stranger")] as [StaffID?] + [nil] {
                let response = RoomResponse(state, for: reader)
                #expect(String(decoding: response.jsonBytes, as: UTF8.self) == (try Self.encoded(response)))
            }
        }
        let recent = RecentConnectionsResponse(unreadRooms: 2, rooms: [
            RecentConnectionResponse(room: RoomResponse(informed, for: cy), lastMessage: MessageResponse(Self.messages()[0], room: Self.room), lastActivity: "2026-12-03T10:00:00.000Z"),
            RecentConnectionResponse(room: RoomResponse(room, for: bo), lastMessage: nil, lastActivity: ""),
        ])
        #expect(String(decoding: recent.jsonBytes, as: UTF8.self) == (try Self.encoded(recent)))
        #expect(String(decoding: RecentConnectionsResponse(unreadRooms: 0, rooms: []).jsonBytes, as: UTF8.self)
            == (try Self.encoded(RecentConnectionsResponse(unreadRooms: 0, rooms: []))))
    }

    @Test func refusalsAreWrittenAsTheEncoderWritesThem() throws {
        for (code, message) in [("route_not_found", "no route GET /v1/nothing"), ("invalid_json", Self.tricky), ("", "")] {
            let envelope = ErrorEnvelope(error: .init(code: code, message: message))
            #expect(String(decoding: envelope.jsonBytes, as: UTF8.self) == (try Self.encoded(envelope)))
        }
        for status in ["ok", "starting", "draining"] {
            #expect(String(decoding: StatusBody(status: status).jsonBytes, as: UTF8.self) == (try Self.encoded(StatusBody(status: status))))
        }
    }

    /// The date and time to the second as the format style writes them (whole seconds are
    /// exact in a Double), and the milliseconds exactly (the format style, going through a
    /// Double, writes .998 for .999).
    @Test func timestampsAreFormattedExactly() {
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] = [0, 1, 999, 86_399_999, 86_400_000, 951_782_400_999, 1_790_000_000_123, 253_402_300_799_999]
            + (0..<2_000).map { _ in Int64(generator.next(upperBound: UInt64(253_402_300_800_000))) }
        for milliseconds in samples {
            let seconds = Date(timeIntervalSince1970: Double(milliseconds / 1_000)).formatted(Date.ISO8601FormatStyle())
            let fraction = String(milliseconds % 1_000)
            let expected = seconds.dropLast() + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
            #expect(RoomResponse.format(Timestamp(milliseconds: milliseconds)) == expected, "\(milliseconds)")
        }
    }
}

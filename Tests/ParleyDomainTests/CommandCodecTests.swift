import Testing

@testable import ParleyDomain

/// Commands and states as nodes forward them: every case survives the trip, and cut input
/// is refused rather than misread.
@Suite("Command and state codecs")
struct CommandCodecTests {
    static let al = StaffID(unchecked: "al")
    static let bo = StaffID(unchecked: "bo")
    static let at = Timestamp(milliseconds: 1_700_000_000_123)

    static var message: Message {
        var message = Message(seq: 9, author: al, text: "hello @bo", postedAt: at, idempotencyKey: "k1")
        message.mentions = [bo]
        message.attachment = FileAttachment(id: "f_1", name: "a.png", contentType: "image/png", size: 10, sha256: Array(repeating: 7, count: 32), chunkCount: 1)
        return message
    }

    static let roomCommands: [RoomCommand] = [
        .create(RoomCreation(kind: .space, name: "Sales", description: "d", visibility: .public, members: [bo], creator: al)),
        .post(MessagePost(author: al, text: "hi", idempotencyKey: "k", replyTo: 3)),
        .post(MessagePost(author: al, text: " ", forwarding: (message, RoomID(unchecked: "r_2")), attachment: message.attachment,
            quickLink: Shortcut(code: "web", kind: .link, title: "Web", value: "https://example.com"))),
        .edit(seq: 4, text: "new", by: al),
        .recall(seq: 4, by: al),
        .markRead(upTo: 12, by: bo),
        .setMute(.mentionsOnly, by: bo),
        .join(bo),
        .addMembers([bo, StaffID(unchecked: "cy")], by: al),
        .removeMember(bo, by: al),
        .leave(bo),
        .updateProfile(name: "New", description: nil, visibility: .private, by: al),
        .updateProfile(name: nil, description: "", visibility: nil, by: al),
        .openEnquiry(EnquiryOpening(title: "Visitor", staff: [al], information: RoomInformation(contact: ContactInfo(firstName: "Ann")))),
        .setVisitorField(name: "plan", value: "gold", by: al),
        .setContact(ContactInfo(firstName: "A", lastName: "B", phone: "1", email: "a@b.c", timezone: "UTC"), by: al),
        .attachLinkPreviews(seq: 2, [LinkPreview(url: "https://example.com", title: "Example", description: "", imageURL: nil, siteName: "ex")]),
    ]

    func roundTrip<T: Equatable>(_ value: T, encode: (T, inout BinaryWriter) -> Void, decode: (inout BinaryReader) throws(DecodingError) -> T) throws {
        var writer = BinaryWriter()
        encode(value, &writer)
        var reader = BinaryReader(writer.bytes)
        #expect(try decode(&reader) == value)
        try reader.expectEnd()
        for cut in [0, writer.bytes.count / 2, writer.bytes.count - 1] where cut < writer.bytes.count {
            var short = BinaryReader(Array(writer.bytes.prefix(cut)))
            let decoded = try? decode(&short)
            #expect(decoded == nil || !short.isAtEnd || decoded != value)
        }
    }

    @Test(arguments: roomCommands)
    func roomCommandsRoundTrip(_ command: RoomCommand) throws {
        try roundTrip(command, encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try RoomCommand.decode(from: &reader) })
    }

    @Test func staffAndChannelCommandsRoundTrip() throws {
        let staffCommands: [StaffCommand] = [
            .create(displayName: "Al", role: .admin, tokenHash: Array(repeating: 1, count: 32)),
            .rotateToken(tokenHash: Array(repeating: 2, count: 32)),
            .deliver(room: RoomID(unchecked: "r_1"), eventSeq: 5, notices: [.joined(.space), .unread(true), .mentioned(seq: 3, by: Self.al, at: Self.at, notify: true), .left]),
            .deliverAll([
                StaffDelivery(room: RoomID(unchecked: "r_1"), eventSeq: 6, notices: [.unread(true)]),
                StaffDelivery(room: RoomID(unchecked: "r_2"), eventSeq: 1, notices: [.joined(.direct), .mentioned(seq: 1, by: Self.al, at: Self.at, notify: false)]),
            ]),
            .setShortcut(Shortcut(code: "hi", kind: .text, title: "Hi", value: "Hello there")),
            .removeShortcut(code: "hi"),
        ]
        for command in staffCommands {
            try roundTrip(command, encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try StaffCommand.decode(from: &reader) })
        }
        let channelCommands: [ChannelCommand] = [
            .create(name: "Web", kind: .widget, webLink: "https://x.y", phoneNumber: nil),
            .update(name: nil, webLink: "", phoneNumber: "+1 555"),
            .setShortcut(Shortcut(code: "faq", kind: .link, title: "FAQ", value: "https://x.y/faq")),
            .removeShortcut(code: "faq"),
        ]
        for command in channelCommands {
            try roundTrip(command, encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try ChannelCommand.decode(from: &reader) })
        }
    }

    @Test func statesRoundTrip() throws {
        var room = RoomState(id: RoomID(unchecked: "r_1"))
        room.apply(.created(RoomProfile(kind: .space, name: "S", description: "", visibility: .public, createdBy: Self.al, createdAt: Self.at), members: [Self.al, Self.bo]))
        room.apply(.messagePosted(Self.message))
        room.apply(.muteChanged(Self.bo, .muted))
        room.apply(.informationUpdated(RoomInformation(visitor: [.init(name: "plan", value: "gold")])))
        try roundTrip(room, encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try RoomState.decode(from: &reader) })
        try roundTrip(RoomState(id: RoomID(unchecked: "r_none")), encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try RoomState.decode(from: &reader) })

        var staff = StaffState(id: Self.bo)
        staff.apply(.created(StaffProfile(displayName: "Bo", role: .agent, createdAt: Self.at), tokenHash: Array(repeating: 3, count: 32)))
        staff.apply(.roomNoted(RoomID(unchecked: "r_1"), StaffRoomEntry(kind: .space, isMember: true, unread: true, lastEventSeq: 4),
            mentions: [Mention(room: RoomID(unchecked: "r_1"), seq: 1, by: Self.al, at: Self.at, notify: true)], firstMention: 0))
        staff.apply(.shortcutSet(Shortcut(code: "hi", kind: .text, title: "Hi", value: "Hello")))
        try roundTrip(staff, encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try StaffState.decode(from: &reader) })

        var channel = ChannelState(id: ChannelID(unchecked: "c_1"))
        channel.apply(.created(ChannelProfile(name: "Web", kind: .whatsapp, webLink: nil, phoneNumber: "+1", createdAt: Self.at)))
        channel.apply(.shortcutSet(Shortcut(code: "faq", kind: .link, title: "FAQ", value: "https://x.y")))
        try roundTrip(channel, encode: { $0.encode(into: &$1) }, decode: { reader throws(DecodingError) in try ChannelState.decode(from: &reader) })
    }

    @Test func unknownTagsAndErrorCodesAreRefused() throws {
        var reader = BinaryReader([0xEE])
        #expect(throws: DecodingError.self) { try RoomCommand.decode(from: &reader) }
        var writer = BinaryWriter()
        DomainError(.notAMember, "bo is not a member").encode(into: &writer)
        var good = BinaryReader(writer.bytes)
        #expect(try DomainError.decode(from: &good) == DomainError(.notAMember, "bo is not a member"))
        var bad = BinaryWriter()
        bad.write("no_such_code")
        bad.write("x")
        var badReader = BinaryReader(bad.bytes)
        #expect(throws: DecodingError.self) { try DomainError.decode(from: &badReader) }
    }
}

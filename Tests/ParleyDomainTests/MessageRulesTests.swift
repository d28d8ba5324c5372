import Testing

@testable import ParleyDomain

@Suite("Message rules")
struct MessageRulesTests {
    let admin = StaffID(unchecked: "admin")
    let bo = StaffID(unchecked: "bo")
    let cy = StaffID(unchecked: "cy")
    let start = Timestamp(milliseconds: 1_000_000)

    /// A space of admin, bo and cy with messages, and a lookup over what was posted.
    struct Room {
        var state: RoomState
        var messages: [UInt64: Message] = [:]

        mutating func run(_ command: RoomCommand, at now: Timestamp) throws(DomainError) -> [RoomEvent] {
            let events = try state.decide(command, now: now) { [messages] in messages[$0] }
            for event in events {
                state.apply(event)
                switch event {
                case let .messagePosted(m), let .messageEdited(m), let .messageRecalled(m, _), let .messagePreviewed(m): messages[m.seq] = m
                default: break
                }
            }
            return events
        }
    }

    func space(visibility: RoomVisibility = .private) throws -> Room {
        var room = Room(state: RoomState(id: RoomID(unchecked: "r1")))
        _ = try room.run(.create(RoomCreation(kind: .space, name: "Team", visibility: visibility, members: [bo, cy], creator: admin)), at: start)
        return room
    }

    func code(_ body: () throws -> Void) -> DomainError.Code? {
        do {
            try body()
            return nil
        } catch let error as DomainError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func editAndRecallOnlyByTheAuthorWithinFiveMinutes() throws {
        var room = try space()
        _ = try room.run(.post(MessagePost(author: bo, text: "draft @cy")), at: start)
        #expect(room.messages[1]?.mentions == [cy])
        let edited = try room.run(.edit(seq: 1, text: "final @all", by: bo), at: start.adding(milliseconds: 60_000))
        guard case let .messageEdited(message) = edited.first else {
            Issue.record("no edit event")
            return
        }
        #expect(message.text == "final @all" && message.mentionsAll && message.mentions.isEmpty)
        #expect(message.editedAt == start.adding(milliseconds: 60_000))
        #expect(code { _ = try room.run(.edit(seq: 1, text: "mine now", by: cy), at: start) } == .notTheAuthor)
        #expect(code { _ = try room.run(.recall(seq: 1, by: cy), at: start) } == .notTheAuthor)
        #expect(code { _ = try room.run(.edit(seq: 9, text: "x", by: bo), at: start) } == .messageNotFound)
        #expect(code { _ = try room.run(.edit(seq: 1, text: "late", by: bo), at: start.adding(milliseconds: 5 * 60_000 + 1)) } == .editWindowExpired)
        #expect(code { _ = try room.run(.recall(seq: 1, by: bo), at: start.adding(milliseconds: 5 * 60_000 + 1)) } == .editWindowExpired)
        // Exactly at five minutes it is still allowed.
        _ = try room.run(.recall(seq: 1, by: bo), at: start.adding(milliseconds: 5 * 60_000))
        let tombstone = try #require(room.messages[1])
        #expect(tombstone.isRecalled && tombstone.text.isEmpty && tombstone.seq == 1)
        #expect(code { _ = try room.run(.edit(seq: 1, text: "again", by: bo), at: start) } == .messageRecalled)
        #expect(room.state.lastSeq == 1)
    }

    @Test func repliesQuoteAnExistingMessageAndForwardsKeepTheirOrigin() throws {
        var room = try space()
        _ = try room.run(.post(MessagePost(author: bo, text: String(repeating: "long ", count: 100))), at: start)
        _ = try room.run(.post(MessagePost(author: cy, text: "agreed", replyTo: 1)), at: start)
        let reply = try #require(room.messages[2]?.replyTo)
        #expect(reply.reference == MessageReference(room: room.state.id, seq: 1))
        #expect(reply.author == bo)
        #expect(reply.excerpt.count == 281 && reply.excerpt.hasSuffix("…"))
        #expect(code { _ = try room.run(.post(MessagePost(author: cy, text: "?", replyTo: 42)), at: start) } == .messageNotFound)

        let origin = Message(seq: 7, author: admin, text: "from elsewhere", postedAt: start, idempotencyKey: nil)
        _ = try room.run(.post(MessagePost(author: cy, text: "", forwarding: (origin, RoomID(unchecked: "r9")))), at: start)
        let forwarded = try #require(room.messages[3])
        #expect(forwarded.text == "from elsewhere")
        #expect(forwarded.forwardedFrom?.reference == MessageReference(room: RoomID(unchecked: "r9"), seq: 7))
        var recalled = origin
        recalled.recalledAt = start
        #expect(code { _ = try room.run(.post(MessagePost(author: cy, text: "", forwarding: (recalled, RoomID(unchecked: "r9")))), at: start) } == .messageNotFound)
    }

    @Test func readPointersCountUnreadAndPostingReadsForTheAuthor() throws {
        var room = try space()
        for i in 1...3 { _ = try room.run(.post(MessagePost(author: bo, text: "m\(i)")), at: start) }
        #expect(room.state.unreadCount(for: cy) == 3)
        #expect(room.state.unreadCount(for: bo) == 0)
        _ = try room.run(.markRead(upTo: 2, by: cy), at: start)
        #expect(room.state.unreadCount(for: cy) == 1)
        // Never backwards, never past the end.
        #expect(try room.run(.markRead(upTo: 1, by: cy), at: start).isEmpty)
        _ = try room.run(.markRead(upTo: 99, by: cy), at: start)
        #expect(room.state.members[cy]?.readSeq == 3)
        #expect(code { _ = try room.run(.markRead(upTo: 1, by: StaffID(unchecked: "eve")), at: start) } == .notAMember)
    }

    @Test func muteSettingsFollowTheRoomKind() throws {
        var room = try space()
        _ = try room.run(.setMute(.mentionsOnly, by: bo), at: start)
        #expect(room.state.members[bo]?.mute == .mentionsOnly)
        #expect(try room.run(.setMute(.mentionsOnly, by: bo), at: start).isEmpty)
        _ = try room.run(.setMute(.muted, by: bo), at: start)
        #expect(room.state.members[bo]?.mute == .muted)
    }

    @Test func membershipJoinAddRemoveLeave() throws {
        let eve = StaffID(unchecked: "eve")
        var privateRoom = try space()
        #expect(code { _ = try privateRoom.run(.join(eve), at: start) } == .notAMember)
        _ = try privateRoom.run(.post(MessagePost(author: bo, text: "before eve")), at: start)
        _ = try privateRoom.run(.addMembers([eve, bo], by: cy), at: start)
        #expect(privateRoom.state.members[eve]?.readSeq == 1, "history before joining is not unread")
        #expect(code { _ = try privateRoom.run(.removeMember(bo, by: cy), at: start) } == .forbidden)
        _ = try privateRoom.run(.removeMember(bo, by: admin), at: start)
        _ = try privateRoom.run(.leave(cy), at: start)
        #expect(Set(privateRoom.state.members.keys) == [admin, eve])
        #expect(code { _ = try privateRoom.run(.post(MessagePost(author: cy, text: "gone")), at: start) } == .notAMember)

        var publicRoom = try space(visibility: .public)
        _ = try publicRoom.run(.join(eve), at: start)
        #expect(publicRoom.state.canRead(eve))
        #expect(try publicRoom.run(.join(eve), at: start).isEmpty)
        _ = try publicRoom.run(.updateProfile(name: " Renamed ", description: nil, visibility: .private, by: eve), at: start)
        #expect(publicRoom.state.profile?.name == "Renamed" && publicRoom.state.profile?.visibility == .private)
    }

    @Test func everyEventAdvancesTheJournal() throws {
        var room = try space()
        #expect(room.state.lastEventSeq == 1)
        _ = try room.run(.post(MessagePost(author: bo, text: "hi")), at: start)
        #expect(room.state.lastEventSeq == 3, "a post and its author's read pointer")
    }

    @Test(arguments: [
        ("hi @bo and @cy.", ["bo", "cy"], false),
        ("@all please", [], true),
        ("mail me at x@bo.com", [], false),
        ("@eve is not here", [], false),
        ("@bo @bo twice", ["bo"], false),
        ("@", [], false),
    ])
    func mentionsAreMembersOnly(_ text: String, _ expected: [String], _ all: Bool) {
        let parsed = Mentions.parse(text, isMember: Set([StaffID(unchecked: "bo"), StaffID(unchecked: "cy")]).contains)
        #expect(parsed.mentions.map(\.rawValue) == expected)
        #expect(parsed.all == all)
    }

    @Test func newEventsAndMessagesRoundTripThroughTheCodec() throws {
        let message = Message(
            seq: 3, author: bo, text: "x", postedAt: start, idempotencyKey: "k",
            replyTo: Quote(reference: MessageReference(room: RoomID(unchecked: "r1"), seq: 1), author: cy, excerpt: "q"),
            forwardedFrom: nil, mentions: [cy], mentionsAll: true, editedAt: start, recalledAt: nil)
        let events: [RoomEvent] = [
            .messageEdited(message), .messageRecalled(message, removedFile: "f_1"), .readPointerMoved(bo, seq: 9), .muteChanged(cy, .mentionsOnly),
            .membersAdded([bo, cy], by: admin, joinedAt: start, readSeq: 4), .memberRemoved(bo, by: admin),
            .profileUpdated(RoomProfile(kind: .space, name: "n", description: "d", visibility: .public, createdBy: admin, createdAt: start)),
            .messagePreviewed({
                var previewed = message
                previewed.linkPreviews = [LinkPreview(url: "https://a.example", title: "A", description: "", imageURL: "https://a.example/i.png", siteName: nil)]
                return previewed
            }()),
        ]
        for event in events {
            var writer = BinaryWriter()
            event.encode(into: &writer)
            var reader = BinaryReader(writer.bytes)
            #expect(try RoomEvent.decode(from: &reader) == event)
            try reader.expectEnd()
        }
    }

    @Test func linkPreviewsFollowTheTextTheyPreview() throws {
        var room = try space()
        let a = LinkPreview(url: "https://a.example", title: "A", description: "a")
        let b = LinkPreview(url: "https://b.example/x", title: "B", description: "b")
        _ = try room.run(.post(MessagePost(author: bo, text: "see https://a.example and https://b.example/x")), at: start)
        // Out of order, with a stranger's link: kept in text order, the stranger dropped.
        let stranger = LinkPreview(url: "https://evil.example", title: "E", description: "")
        _ = try room.run(.attachLinkPreviews(seq: 1, [b, stranger]), at: start)
        _ = try room.run(.attachLinkPreviews(seq: 1, [a]), at: start)
        #expect(room.messages[1]?.linkPreviews == [a, b])
        #expect(try room.run(.attachLinkPreviews(seq: 1, [a]), at: start).isEmpty, "nothing new, no event")
        // An edit keeps the previews of links still there.
        _ = try room.run(.edit(seq: 1, text: "only https://b.example/x now", by: bo), at: start)
        #expect(room.messages[1]?.linkPreviews == [b])
        // Late previews of recalled or unknown messages change nothing.
        _ = try room.run(.recall(seq: 1, by: bo), at: start)
        #expect(room.messages[1]?.linkPreviews == [])
        #expect(try room.run(.attachLinkPreviews(seq: 1, [b]), at: start).isEmpty)
        #expect(try room.run(.attachLinkPreviews(seq: 7, [b]), at: start).isEmpty)
    }
}

@Suite("Message alerts")
struct MessageAlertsTests {
    /// The shared list and the per-member rule agree for every mute setting and member.
    @Test func alertsFollowTheMuteRuleForEveryMember() {
        let bo = StaffID(unchecked: "bo")
        let cy = StaffID(unchecked: "cy")
        let dee = StaffID(unchecked: "dee")
        let mention = Message(seq: 2, author: bo, text: "@dee", postedAt: Timestamp(milliseconds: 2), idempotencyKey: nil, mentions: [dee])
        var recalled = Message(seq: 3, author: cy, text: "", postedAt: Timestamp(milliseconds: 3), idempotencyKey: nil)
        recalled.recalledAt = Timestamp(milliseconds: 4)
        let posted = [Message(seq: 1, author: bo, text: "hi", postedAt: Timestamp(milliseconds: 1), idempotencyKey: nil), mention, recalled]
        let alerts = MessageAlerts(posted: posted)
        for member in [bo, cy, dee, StaffID(unchecked: "eve")] {
            for mute in MuteSetting.allCases {
                #expect(alerts.seqs(for: member, mute: mute) == posted.filter { mute.notifies(member, of: $0) }.map(\.seq), "\(member) \(mute)")
            }
        }
        #expect(alerts.seqs(for: StaffID(unchecked: "eve"), mute: .all) == [1, 2])
        #expect(alerts.seqs(for: dee, mute: .mentionsOnly) == [2])
    }
}

import Testing

@testable import ParleyDomain

@Suite("Channel rules")
struct ChannelRulesTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func webLinkAndPhoneNumberAreQuickLinksAndUpdatesKeepWhatIsNotNamed() throws {
        var channel = ChannelState(id: ChannelID(unchecked: "ch_1"))
        for event in try channel.decide(.create(name: " Site ", kind: .weblink, webLink: "https://x.example", phoneNumber: "+8523000"), now: now) {
            channel.apply(event)
        }
        #expect(channel.profile?.name == "Site")
        #expect(channel.quickLink("web-link")?.expansion == "Site: https://x.example")
        #expect(channel.quickLink("phone")?.kind == .phone)
        // Nothing named, nothing changes: no event.
        #expect(try channel.decide(.update(name: nil, webLink: nil, phoneNumber: nil), now: now).isEmpty)
        for event in try channel.decide(.update(name: nil, webLink: "", phoneNumber: nil), now: now) { channel.apply(event) }
        #expect(channel.profile?.webLink == nil && channel.profile?.phoneNumber == "+8523000")
        #expect(channel.quickLinks.map(\.code) == ["phone"])
    }

    @Test func refusals() throws {
        var channel = ChannelState(id: ChannelID(unchecked: "ch_1"))
        #expect(throws: DomainError(.channelNotFound, "no channel ch_1")) { try channel.decide(.update(name: "x", webLink: nil, phoneNumber: nil), now: now) }
        #expect(throws: DomainError.self) { try channel.decide(.create(name: "  ", kind: .line, webLink: nil, phoneNumber: nil), now: now) }
        #expect(throws: DomainError.self) { try channel.decide(.create(name: "x", kind: .weblink, webLink: "javascript:alert(1)", phoneNumber: nil), now: now) }
        for event in try channel.decide(.create(name: "x", kind: .line, webLink: nil, phoneNumber: nil), now: now) { channel.apply(event) }
        #expect(throws: DomainError.self) { try channel.decide(.create(name: "y", kind: .line, webLink: nil, phoneNumber: nil), now: now) }
        #expect(throws: DomainError.self) { try channel.decide(.setShortcut(Shortcut(code: "web-link", kind: .text, title: "", value: "x")), now: now) }
        #expect(throws: DomainError(.shortcutNotFound, "channel ch_1 has no shortcut a")) { try channel.decide(.removeShortcut(code: "a"), now: now) }
    }

    @Test func eventsRoundTrip() throws {
        let events: [ChannelEvent] = [
            .created(ChannelProfile(name: "Site", kind: .thirdParty, webLink: "https://x.example", phoneNumber: nil, createdAt: now)),
            .updated(ChannelProfile(name: "Site 2", kind: .thirdParty, webLink: nil, phoneNumber: "+1555", createdAt: now)),
            .shortcutSet(Shortcut(code: "a", kind: .text, title: "A", value: "hello")),
            .shortcutRemoved(code: "a"),
        ]
        for event in events {
            var writer = BinaryWriter()
            event.encode(into: &writer)
            var reader = BinaryReader(writer.bytes)
            #expect(try ChannelEvent.decode(from: &reader) == event)
        }
    }
}

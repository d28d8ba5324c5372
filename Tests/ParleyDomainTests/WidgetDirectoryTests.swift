import ParleyDomain
import Testing

/// The widget's directory: the channel's destinations in its rule's order with whether anyone
/// can take an enquiry now, their members once each, named as the channel shows staff.
struct WidgetDirectoryTests {
    func channel(_ rule: RoutingRule?, display: DisplayNameFormat = .fullName) -> ChannelState {
        ChannelState(
            id: ChannelID(unchecked: "web"), profile: ChannelProfile(name: "Acme Web", kind: .widget, createdAt: Timestamp(milliseconds: 0)),
            settings: SourceSettings(rule: rule, displayName: display))
    }

    let names = ["ann": "Ann Lee", "bob": "Bob Ray"]
    func name(_ member: StaffID) -> String? { names[member.rawValue] }

    @Test func destinationsFollowTheRuleAndMembersAreListedOnceEach() {
        var facts = GivenFacts()
        facts.add("sales", members: ["ann", "bob"])
        facts.add("vip", members: ["bob"])
        facts.add("support", members: ["cy"], ready: false)
        let directory = WidgetDirectory(
            channel(.alternative([dest("support"), dest("gone"), dest("sales"), dest("vip")])), facts: facts, now: Timestamp(milliseconds: 0), name: name)
        #expect(directory.destinations.map(\.id) == [dest("support"), dest("sales"), dest("vip")], "an unknown destination is left out")
        #expect(directory.destinations.map(\.available) == [false, true, true])
        #expect(directory.staff.map(\.id) == [staff("cy"), staff("ann"), staff("bob")])
        #expect(directory.staff.map(\.availability) == [.offline, .active, .active])
        #expect(directory.staff.map(\.displayName) == ["cy", "Ann Lee", "Bob Ray"], "an id stands in for a missing name")
    }

    @Test func staffAreNamedInTheChannelsFormatAndOfflineUnlessOnline() {
        var facts = GivenFacts()
        facts.add("sales", members: ["ann"])
        facts.statuses[staff("bob")] = StaffStatus(availability: .away, capacity: 5, openEnquiries: 0, online: false)
        facts.destinations[dest("sales")]?.members.append(staff("bob"))
        let first = WidgetDirectory(channel(.alternative([dest("sales")]), display: .firstName), facts: facts, now: Timestamp(milliseconds: 0), name: name)
        #expect(first.staff.map(\.displayName) == ["Ann", "Bob"])
        #expect(first.staff.map(\.availability) == [.active, .offline], "an AWAY member with no live session shows offline")
        let none = WidgetDirectory(channel(.alternative([dest("sales")]), display: .none), facts: facts, now: Timestamp(milliseconds: 0), name: name)
        #expect(none.staff.map(\.displayName) == ["Acme Web", "Acme Web"], "no staff names: the channel's own")
    }

    @Test func aChannelWithoutARuleHasAnEmptyDirectoryAndTheStaffListIsBounded() {
        var facts = GivenFacts()
        facts.add("sales", members: ["ann"])
        let unrouted = WidgetDirectory(channel(nil), facts: facts, now: Timestamp(milliseconds: 0), name: name)
        #expect(unrouted.destinations.isEmpty && unrouted.staff.isEmpty)
        facts.add("big", members: (0..<(WidgetDirectory.maxStaff + 50)).map { "s\($0)" })
        #expect(WidgetDirectory(channel(.alternative([dest("big")])), facts: facts, now: Timestamp(milliseconds: 0), name: name).staff.count == WidgetDirectory.maxStaff)
    }
}

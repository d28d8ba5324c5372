import Foundation
import Testing

@testable import ParleyDomain

/// Routing facts for tests: destinations and statuses as given, time zones from the system's
/// database (Foundation's `TimeZone`, as the node uses).
struct GivenFacts: RoutingFacts {
    var destinations: [DestinationID: DestinationProfile] = [:]
    var statuses: [StaffID: StaffStatus] = [:]

    func destination(_ id: DestinationID) -> DestinationProfile? { destinations[id] }
    func status(of staff: StaffID) -> StaffStatus? { statuses[staff] }
    func utcOffsetSeconds(zone: String, at instant: Timestamp) -> Int? {
        TimeZone(identifier: zone)?.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.milliseconds) / 1_000))
    }

    static let ready = StaffStatus(availability: .active, capacity: 5, openEnquiries: 0, online: true)

    mutating func add(_ destination: String, members: [String], hours: BusinessHours? = nil, ready: Bool = true) {
        destinations[DestinationID(unchecked: destination)] = DestinationProfile(name: destination, members: members.map(StaffID.init(unchecked:)), hours: hours)
        if ready { for member in members { statuses[StaffID(unchecked: member)] = Self.ready } }
    }
}

func dest(_ raw: String) -> DestinationID { DestinationID(unchecked: raw) }
func staff(_ raw: String) -> StaffID { StaffID(unchecked: raw) }

/// An instant given as UTC wall time.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int) -> Timestamp {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    return Timestamp(milliseconds: Int64(date.timeIntervalSince1970 * 1_000))
}

@Suite("Routing rules")
struct RoutingRulesTests {
    let now = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func offerableMeansActiveOnlineAndBelowCapacity() {
        #expect(GivenFacts.ready.offerable)
        for availability in [Availability.away, .busy, .offline] {
            #expect(!StaffStatus(availability: availability, capacity: 5, openEnquiries: 0, online: true).offerable)
        }
        #expect(!StaffStatus(availability: .active, capacity: 5, openEnquiries: 0, online: false).offerable)
        #expect(!StaffStatus(availability: .active, capacity: 2, openEnquiries: 2, online: true).offerable)
        #expect(!StaffStatus(availability: .active, capacity: 0, openEnquiries: 0, online: true).offerable)
    }

    @Test func alternativeTakesTheFirstDestinationWithSomeoneOfferableAndOffersThemAll() {
        var facts = GivenFacts()
        facts.add("sales", members: ["a", "b"], ready: false)
        facts.add("support", members: ["c", "d", "e"])
        facts.statuses[staff("d")]?.availability = .busy
        let rule = RoutingRule.alternative([dest("sales"), dest("support")])
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, now: now), facts: facts) == .offer(destination: dest("support"), staff: [staff("c"), staff("e")]))
        // Someone in the first becomes offerable: it goes there.
        facts.statuses[staff("b")] = GivenFacts.ready
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, now: now), facts: facts) == .offer(destination: dest("sales"), staff: [staff("b")]))
        // Skipped destinations and staff (this round's lapses) are passed over.
        let skipping = RoutingRequest(rule: rule, skipDestinations: [dest("sales")], skipStaff: [staff("c")], now: now)
        #expect(EnquiryRouter.route(skipping, facts: facts) == .offer(destination: dest("support"), staff: [staff("e")]))
        // Nobody anywhere: queued at the first destination.
        facts.statuses = [:]
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, now: now), facts: facts) == .queue(destination: dest("sales")))
        // A destination nobody knows has nobody.
        #expect(EnquiryRouter.route(RoutingRequest(rule: .alternative([dest("gone")]), now: now), facts: facts) == .queue(destination: dest("gone")))
    }

    @Test func percentageSplitsTenThousandEnquiriesByWeightWithinTwoPoints() {
        var facts = GivenFacts()
        facts.add("a", members: ["a1"])
        facts.add("b", members: ["b1"])
        facts.add("c", members: ["c1"])
        let rule = RoutingRule.percentage([WeightedDestination(dest("a"), weight: 50), WeightedDestination(dest("b"), weight: 30), WeightedDestination(dest("c"), weight: 20)])
        func split(_ facts: GivenFacts) -> [String: Double] {
            var counts: [String: Int] = [:]
            for index in 0..<10_000 {
                let draw = EnquiryState.draw(EnquiryID(unchecked: "enq_\(index)"), round: 1)
                guard case let .offer(destination?, _) = EnquiryRouter.route(RoutingRequest(rule: rule, draw: draw, now: now), facts: facts) else {
                    Issue.record("not offered")
                    return [:]
                }
                counts[destination.rawValue, default: 0] += 1
            }
            return counts.mapValues { Double($0) / 100 }
        }
        let full = split(facts)
        #expect(abs(full["a", default: 0] - 50) <= 2 && abs(full["b", default: 0] - 30) <= 2 && abs(full["c", default: 0] - 20) <= 2, "\(full)")
        // Nobody offerable in c: its share goes to a and b in proportion (62.5 / 37.5), none stranded.
        facts.statuses[staff("c1")] = nil
        let passed = split(facts)
        #expect(passed["c"] == nil)
        #expect(abs(passed["a", default: 0] - 62.5) <= 2 && abs(passed["b", default: 0] - 37.5) <= 2, "\(passed)")
        // Nobody anywhere: queued where the full weights draw.
        facts.statuses = [:]
        guard case .queue(let queued?) = EnquiryRouter.route(RoutingRequest(rule: rule, draw: 7, now: now), facts: facts) else {
            Issue.record("not queued")
            return
        }
        #expect(["a", "b", "c"].contains(queued.rawValue))
    }

    @Test func timeRuleFollowsTheZonesWallClockAcrossDaylightSavingAndMidnight() {
        var facts = GivenFacts()
        facts.add("day", members: ["d1"])
        facts.add("night", members: ["n1"])
        facts.add("other", members: ["o1"])
        let weekdays: Set<Weekday> = [.monday, .tuesday, .wednesday, .thursday, .friday]
        let rule = RoutingRule.time(
            timeZone: "America/New_York",
            conditions: [
                TimeCondition(windows: [TimeWindow(days: weekdays, start: 9 * 60, end: 18 * 60)], destinations: [dest("day")]),
                TimeCondition(windows: [TimeWindow(days: [.friday], start: 22 * 60, end: 6 * 60)], destinations: [dest("night")]),
            ],
            otherwise: [dest("other")])
        func routed(_ at: Timestamp) -> String? {
            guard case let .offer(destination?, _) = EnquiryRouter.route(RoutingRequest(rule: rule, now: at), facts: facts) else { return nil }
            return destination.rawValue
        }
        // Winter (EST, UTC-5): Monday 2026-01-05 09:00 local is 14:00 UTC.
        #expect(routed(utc(2026, 1, 5, 13, 59)) == "other")
        #expect(routed(utc(2026, 1, 5, 14, 0)) == "day")
        #expect(routed(utc(2026, 1, 5, 22, 59)) == "day")  // 17:59 local
        #expect(routed(utc(2026, 1, 5, 23, 0)) == "other")  // 18:00 local: the end is exclusive
        // Summer (EDT, UTC-4): Monday 2026-07-06 09:00 local is 13:00 UTC.
        #expect(routed(utc(2026, 7, 6, 13, 0)) == "day")
        #expect(routed(utc(2026, 7, 6, 12, 59)) == "other")
        // The Monday after the spring change (2026-03-08): 09:00 EDT is 13:00 UTC, not 14:00.
        #expect(routed(utc(2026, 3, 9, 13, 0)) == "day")
        // The Monday after the autumn change (2026-11-01): 09:00 EST is 14:00 UTC again.
        #expect(routed(utc(2026, 11, 2, 13, 59)) == "other")
        #expect(routed(utc(2026, 11, 2, 14, 0)) == "day")
        // Past midnight: Friday 22:00 to 06:00 holds Friday night and Saturday morning, local.
        #expect(routed(utc(2026, 1, 10, 3, 0)) == "night")  // Friday 22:00 EST
        #expect(routed(utc(2026, 1, 10, 10, 59)) == "night")  // Saturday 05:59 EST
        #expect(routed(utc(2026, 1, 10, 11, 0)) == "other")  // Saturday 06:00 EST
        #expect(routed(utc(2026, 1, 9, 2, 0)) == "other")  // Thursday 21:00 EST
        // The day boundary is the zone's, not UTC's: Monday 23:30 UTC is still Monday 18:30 local.
        #expect(routed(utc(2026, 1, 6, 0, 30)) == "other")
        // An unknown zone falls to the other schedule.
        let unknown = RoutingRule.time(timeZone: "Mars/Olympus", conditions: [TimeCondition(windows: [TimeWindow(days: Set(Weekday.allCases), start: 0, end: 1440)], destinations: [dest("day")])], otherwise: [dest("other")])
        #expect(EnquiryRouter.route(RoutingRequest(rule: unknown, now: now), facts: facts) == .offer(destination: dest("other"), staff: [staff("o1")]))
    }

    @Test func localTimeAndWindowsAtTheEdges() {
        // 1970-01-01 00:00 UTC was a Thursday; a negative offset reaches Wednesday.
        #expect(LocalTime(Timestamp(milliseconds: 0), offsetSeconds: 0) == LocalTime(weekday: .thursday, minuteOfDay: 0))
        #expect(LocalTime(Timestamp(milliseconds: 0), offsetSeconds: -60) == LocalTime(weekday: .wednesday, minuteOfDay: 1439))
        #expect(LocalTime(Timestamp(milliseconds: -1), offsetSeconds: 0) == LocalTime(weekday: .wednesday, minuteOfDay: 1439))
        let allDay = TimeWindow(days: [.sunday], start: 0, end: 1440)
        #expect(allDay.contains(LocalTime(weekday: .sunday, minuteOfDay: 1439)) && !allDay.contains(LocalTime(weekday: .monday, minuteOfDay: 0)))
        #expect(TimeWindow.minutes("09:30") == 570 && TimeWindow.minutes("24:00") == 1440)
        #expect(TimeWindow.minutes("24:01") == nil && TimeWindow.minutes("9:30") == nil && TimeWindow.minutes("09:60") == nil)
        #expect(TimeWindow.clock(570) == "09:30" && TimeWindow.clock(1440) == "24:00")
        #expect(Weekday(name: "Monday") == .monday && Weekday(name: "tue") == .tuesday && Weekday(name: "mo") == nil)
    }

    @Test func businessHoursCloseADestination() {
        var facts = GivenFacts()
        let hours = BusinessHours(timeZone: "Europe/London", windows: [TimeWindow(days: [.monday], start: 9 * 60, end: 17 * 60)])
        facts.add("uk", members: ["u1"], hours: hours)
        facts.add("backup", members: ["b1"])
        let rule = RoutingRule.alternative([dest("uk"), dest("backup")])
        // Monday 2026-07-06 08:30 UTC is 09:30 BST: open.
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, now: utc(2026, 7, 6, 8, 30)), facts: facts) == .offer(destination: dest("uk"), staff: [staff("u1")]))
        // Monday 2026-01-05 08:30 UTC is 08:30 GMT: closed, so the next destination.
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, now: utc(2026, 1, 5, 8, 30)), facts: facts) == .offer(destination: dest("backup"), staff: [staff("b1")]))
    }

    @Test func stickyPrefersTheLastAgentOnlyWhileOfferable() {
        var facts = GivenFacts()
        facts.add("support", members: ["a", "b"])
        facts.statuses[staff("former")] = GivenFacts.ready
        let rule = RoutingRule.sticky(fallback: [dest("support")])
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, lastAgent: staff("former"), now: now), facts: facts) == .offer(destination: nil, staff: [staff("former")]))
        // Offline, away or full: never waited for; the rule's destinations instead.
        for status in [StaffStatus(availability: .active, capacity: 5, openEnquiries: 0, online: false), StaffStatus(availability: .away, capacity: 5, openEnquiries: 0, online: true),
                       StaffStatus(availability: .active, capacity: 1, openEnquiries: 1, online: true)] {
            facts.statuses[staff("former")] = status
            #expect(EnquiryRouter.route(RoutingRequest(rule: rule, lastAgent: staff("former"), now: now), facts: facts) == .offer(destination: dest("support"), staff: [staff("a"), staff("b")]))
        }
        #expect(EnquiryRouter.route(RoutingRequest(rule: rule, now: now), facts: facts) == .offer(destination: dest("support"), staff: [staff("a"), staff("b")]))
    }

    @Test func rulesAreValidated() {
        let six = (1...6).map { dest("d\($0)") }
        #expect(throws: DomainError.self) { try RoutingRule.alternative(six).validate() }
        #expect(throws: DomainError.self) { try RoutingRule.alternative([]).validate() }
        #expect(throws: DomainError.self) { try RoutingRule.alternative([dest("a"), dest("a")]).validate() }
        #expect(throws: DomainError.self) { try RoutingRule.percentage([WeightedDestination(dest("a"), weight: 60), WeightedDestination(dest("b"), weight: 30)]).validate() }
        #expect(throws: DomainError.self) { try RoutingRule.percentage([WeightedDestination(dest("a"), weight: 100), WeightedDestination(dest("b"), weight: 0)]).validate() }
        #expect(throws: Never.self) { try RoutingRule.percentage([WeightedDestination(dest("a"), weight: 70), WeightedDestination(dest("b"), weight: 30)]).validate() }
        let window = TimeWindow(days: [.monday], start: 540, end: 1080)
        #expect(throws: DomainError.self) { try RoutingRule.time(timeZone: "../etc/passwd", conditions: [TimeCondition(windows: [window], destinations: [dest("a")])], otherwise: []).validate() }
        #expect(throws: DomainError.self) { try RoutingRule.time(timeZone: "UTC", conditions: [], otherwise: [dest("a")]).validate() }
        #expect(throws: DomainError.self) { try TimeWindow(days: [], start: 0, end: 60).validate() }
        #expect(throws: DomainError.self) { try TimeWindow(days: [.monday], start: 1440, end: 60).validate() }
        #expect(throws: Never.self) { try RoutingRule.time(timeZone: "Asia/Hong_Kong", conditions: [TimeCondition(windows: [window], destinations: [dest("a")])], otherwise: []).validate() }
    }

    @Test func rulesRoundTrip() throws {
        let rules: [RoutingRule] = [
            .alternative([dest("a"), dest("b")]),
            .percentage([WeightedDestination(dest("a"), weight: 25), WeightedDestination(dest("b"), weight: 75)]),
            .time(timeZone: "Asia/Hong_Kong", conditions: [TimeCondition(windows: [TimeWindow(days: [.monday, .sunday], start: 1320, end: 360)], destinations: [dest("n")])], otherwise: [dest("o")]),
            .sticky(fallback: [dest("s")]),
        ]
        for rule in rules { #expect(try RoutingRule.decode(rule.encoded) == rule) }
        let profile = DestinationProfile(name: "Support", members: [staff("a")], hours: BusinessHours(timeZone: "UTC", windows: [TimeWindow(days: [.friday], start: 0, end: 1440)]))
        #expect(try DestinationProfile.decode(profile.encoded) == profile)
    }
}

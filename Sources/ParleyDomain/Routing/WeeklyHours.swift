/// The UTC offset of an IANA time zone at an instant, from the time zone database. The rules
/// stay pure: the node hands in the database (Foundation's `TimeZone`), tests may hand in
/// their own.
public protocol ZoneOffsets: Sendable {
    /// Seconds east of UTC in `zone` at `instant`; nil for a zone the database does not know.
    func utcOffsetSeconds(zone: String, at instant: Timestamp) -> Int?
}

/// A day of the week, Sunday first (as ISO 8601's numbering does not: it only names them).
public enum Weekday: UInt8, Sendable, CaseIterable {
    case sunday = 0, monday, tuesday, wednesday, thursday, friday, saturday

    public var name: String { ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][Int(rawValue)] }

    public var fullName: String { ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][Int(rawValue)] }

    /// A day by its short ("mon") or full ("monday") name, any case.
    public init?(name: String) {
        let lower = name.lowercased()
        guard let day = Self.allCases.first(where: { $0.name == lower || $0.fullName == lower }) else { return nil }
        self = day
    }

    /// The day before.
    public var previous: Weekday { Weekday(rawValue: (rawValue + 6) % 7)! }
}

/// A wall-clock moment in some time zone: the weekday and the minute of the day.
public struct LocalTime: Sendable, Equatable {
    public var weekday: Weekday
    /// 0 (00:00) to 1439 (23:59).
    public var minuteOfDay: Int

    public init(weekday: Weekday, minuteOfDay: Int) {
        self.weekday = weekday
        self.minuteOfDay = minuteOfDay
    }

    /// `instant` on the wall clocks of a zone `offsetSeconds` east of UTC.
    public init(_ instant: Timestamp, offsetSeconds: Int) {
        let localSeconds = instant.milliseconds.floorDivided(by: 1_000) + Int64(offsetSeconds)
        let days = localSeconds.floorDivided(by: 86_400)
        // 1970-01-01 was a Thursday.
        weekday = Weekday(rawValue: UInt8((days + 4).floorModulo(7)))!
        minuteOfDay = Int((localSeconds - days * 86_400) / 60)
    }
}

/// Days of the week and a time of day from `start` to `end` (minutes from midnight, `end`
/// exclusive). A window whose end is not after its start runs past midnight: "Fri 22:00 to
/// 06:00" covers Friday night and Saturday morning (the day is the day it starts).
public struct TimeWindow: Sendable, Equatable {
    public var days: Set<Weekday>
    public var start: Int
    public var end: Int

    public init(days: Set<Weekday>, start: Int, end: Int) {
        self.days = days
        self.start = start
        self.end = end
    }

    /// Whether the window holds `time`.
    public func contains(_ time: LocalTime) -> Bool {
        if start < end { return days.contains(time.weekday) && time.minuteOfDay >= start && time.minuteOfDay < end }
        // Past midnight: the evening part on its own days, the morning part the day after.
        return (days.contains(time.weekday) && time.minuteOfDay >= start) || (days.contains(time.weekday.previous) && time.minuteOfDay < end)
    }

    public func validate() throws(DomainError) {
        guard !days.isEmpty else { throw DomainError(.invalidRouting, "a time window names at least one day") }
        guard (0..<1440).contains(start), (0...1440).contains(end), start != end || start == 0 else {
            throw DomainError(.invalidRouting, "a time window runs from HH:MM to HH:MM (00:00 to 24:00), not \(start) to \(end) minutes")
        }
    }

    /// "HH:MM" of a minute of the day.
    public static func clock(_ minutes: Int) -> String {
        let hours = minutes / 60, rest = minutes % 60
        return (hours < 10 ? "0" : "") + String(hours) + ":" + (rest < 10 ? "0" : "") + String(rest)
    }

    /// The minute of the day "HH:MM" names (00:00 to 24:00), nil if malformed.
    public static func minutes(_ clock: String) -> Int? {
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0..<60).contains(minutes), hours < 24 || minutes == 0
        else { return nil }
        return hours * 60 + minutes
    }
}

/// Opening hours in an IANA time zone: open while any window holds the local time.
public struct BusinessHours: Sendable, Equatable {
    public var timeZone: String
    public var windows: [TimeWindow]

    public init(timeZone: String, windows: [TimeWindow]) {
        self.timeZone = timeZone
        self.windows = windows
    }

    /// Whether it is open at `instant`; an unknown zone counts as closed (it cannot be told).
    public func isOpen(at instant: Timestamp, zones: any ZoneOffsets) -> Bool {
        guard let offset = zones.utcOffsetSeconds(zone: timeZone, at: instant) else { return false }
        let time = LocalTime(instant, offsetSeconds: offset)
        return windows.contains { $0.contains(time) }
    }

    public func validate() throws(DomainError) {
        try Self.validate(zone: timeZone)
        guard (1...50).contains(windows.count) else { throw DomainError(.invalidRouting, "business hours have 1 to 50 windows") }
        for window in windows { try window.validate() }
    }

    /// Checks the shape of an IANA zone name (`Area/Location`, or `UTC`); whether the
    /// database knows it is checked where the database is.
    static func validate(zone: String) throws(DomainError) {
        guard isZoneName(zone) else { throw DomainError(.invalidTimeZone, "\(zone) is not an IANA time zone name") }
    }

    /// Whether `zone` has the shape of an IANA zone name: letters, digits, `/ _ - +`, no
    /// leading slash, no `..`, at most 64 bytes.
    public static func isZoneName(_ zone: String) -> Bool {
        let allowed = zone.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2F || byte == 0x5F
                || byte == 0x2D || byte == 0x2B
        }
        return (1...64).contains(zone.utf8.count) && allowed && !zone.hasPrefix("/") && !zone.contains("..")
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int64) -> Int64 { self - floorDivided(by: divisor) * divisor }
}

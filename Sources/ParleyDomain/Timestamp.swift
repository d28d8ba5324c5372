/// Wall-clock time in milliseconds since the Unix epoch: what events record.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public func adding(milliseconds delta: Int64) -> Timestamp { Timestamp(milliseconds: milliseconds + delta) }

    public var description: String { "\(milliseconds)ms" }
}

/// Where business rules get "now" from; injected so tests control time.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// A small deterministic pseudo-random generator (SplitMix64). The node draws its randomized
/// election timeouts from one seeded by `RaftConfig.seed`, so runs are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Hashable {
    public var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (`bound` > 0).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return next() % bound
    }
}

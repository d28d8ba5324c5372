/// The answer to a read-index request: once the local state machine has applied `index`,
/// a read for `context` observes every write acknowledged before the request was made.
public struct ReadState: Sendable, Equatable, Hashable {
    public var index: UInt64
    public var context: [UInt8]

    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

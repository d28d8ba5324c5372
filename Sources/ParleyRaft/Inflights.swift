/// A bounded window of in-flight append messages (the last index each carried).
struct Inflights: Sendable, Equatable {
    let capacity: Int
    private(set) var lastIndexes: [UInt64] = []

    init(capacity: Int) { self.capacity = capacity }

    var isFull: Bool { lastIndexes.count >= capacity }
    var count: Int { lastIndexes.count }

    mutating func add(_ lastIndex: UInt64) { lastIndexes.append(lastIndex) }

    /// Frees every message whose last index is ≤ `index` (acknowledged).
    mutating func free(upTo index: UInt64) {
        var n = 0
        while n < lastIndexes.count && lastIndexes[n] <= index { n += 1 }
        lastIndexes.removeFirst(n)
    }

    mutating func reset() { lastIndexes.removeAll() }
}

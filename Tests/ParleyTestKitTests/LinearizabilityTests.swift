import ParleyRaft
import ParleyTestKit
import Testing

// Shorthand for hand-written histories. `nil` as the completion means pending.
private func put(_ client: Int, _ key: String, _ value: String, _ call: UInt64, _ completion: UInt64?) -> KVOperation {
    KVOperation(client: client, input: .put(key: key, value: value), output: nil, call: call, completion: completion)
}

private func get(_ client: Int, _ key: String, _ output: String?, _ call: UInt64, _ completion: UInt64?) -> KVOperation {
    KVOperation(client: client, input: .get(key: key), output: output, call: call, completion: completion)
}

private func keyOf(_ operation: KVOperation) -> String {
    switch operation.input {
    case .put(let key, _), .get(let key): key
    }
}

@Suite("Linearizability checker: hand-written histories")
struct LinearizabilityTests {
    @Test func emptyHistoryAndPendingGetsOnlyAreLinearizable() {
        #expect(LinearizabilityChecker.check([]) == .linearizable)
        #expect(LinearizabilityChecker.check([get(1, "k", "never written", 0, nil)]) == .linearizable)
    }

    @Test func sequentialHistory() {
        let history = [
            get(1, "k", nil, 0, 1),
            put(1, "k", "a", 2, 3),
            get(2, "k", "a", 4, 5),
            put(2, "k", "b", 6, 7),
            put(1, "k", "a", 8, 9),  // a value may be written twice
            get(1, "k", "a", 10, 11),
        ]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        // The same operations listed in any order give the same verdict.
        #expect(LinearizabilityChecker.check(history.reversed()) == .linearizable)
    }

    @Test func getOverlappingAPutMaySeeEitherValue() {
        let before = put(1, "k", "a", 0, 1)
        let overlapping = put(1, "k", "b", 10, 20)
        #expect(LinearizabilityChecker.check([before, overlapping, get(2, "k", "a", 12, 15)]) == .linearizable)
        #expect(LinearizabilityChecker.check([before, overlapping, get(2, "k", "b", 12, 15)]) == .linearizable)
        // Two concurrent puts: later readers agree on one winner. Either winner is allowed.
        let racing = [put(1, "k", "x", 0, 10), put(2, "k", "y", 0, 10)]
        #expect(LinearizabilityChecker.check(racing + [get(3, "k", "x", 11, 12), get(3, "k", "x", 13, 14)]) == .linearizable)
        #expect(LinearizabilityChecker.check(racing + [get(3, "k", "y", 11, 12), get(4, "k", "y", 13, 14)]) == .linearizable)
    }

    @Test func touchingIntervalsAreConcurrent() {
        // The read ends at 10 and the put starts at 10, so they may go in either order.
        #expect(LinearizabilityChecker.check([get(1, "k", "a", 5, 10), put(2, "k", "a", 10, 12)]) == .linearizable)
        // One tick later the put strictly follows the read, so the read saw the future.
        #expect(LinearizabilityChecker.check([get(1, "k", "a", 5, 10), put(2, "k", "a", 11, 12)]) == .notLinearizable(key: "k"))
        // Same for a stale read: the put of b ends at 20 and the read starts at 20.
        let history = [put(1, "k", "a", 0, 1), put(1, "k", "b", 10, 20)]
        #expect(LinearizabilityChecker.check(history + [get(2, "k", "a", 20, 25)]) == .linearizable)
        #expect(LinearizabilityChecker.check(history + [get(2, "k", "a", 21, 25)]) == .notLinearizable(key: "k"))
    }

    @Test func completionBeforeCallCountsAsInstantaneous() {
        // A malformed record that "returned" before its call is treated as taking no time.
        #expect(LinearizabilityChecker.check([put(1, "k", "a", 10, 5), get(2, "k", "a", 10, 11)]) == .linearizable)
        #expect(LinearizabilityChecker.check([put(1, "k", "a", 10, 5), get(2, "k", nil, 11, 12)]) == .notLinearizable(key: "k"))
    }

    @Test func pendingPutObservedLater() {
        let history = [
            put(1, "k", "a", 0, 1),
            put(2, "k", "b", 5, nil),  // never answered
            get(3, "k", "a", 10, 11),  // not applied yet
            get(3, "k", "b", 20, 21),  // applied now
            get(4, "k", "b", 30, 31),
        ]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        // Once observed, it cannot be undone.
        #expect(LinearizabilityChecker.check(history + [get(4, "k", "a", 40, 41)]) == .notLinearizable(key: "k"))
    }

    @Test func pendingPutNeverObserved() {
        let history = [
            put(1, "k", "a", 0, 1),
            put(2, "k", "lost", 5, nil),
            get(3, "k", "a", 10, 11),
            get(3, "k", "a", 100, 101),
        ]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        // A pending put cannot take effect before its call.
        #expect(LinearizabilityChecker.check([put(2, "k", "b", 50, nil), get(1, "k", "b", 10, 20)]) == .notLinearizable(key: "k"))
    }

    @Test func pendingPutShortcutsKeepTheVerdictExact() {
        // Only put of "a", pending. It must take effect by the first read of "a" (ends at
        // 10), but that read touches the read of nil, so nil-then-a is still allowed.
        let unique = [put(1, "k", "a", 5, nil), get(2, "k", "a", 3, 10), get(3, "k", nil, 10, 12)]
        #expect(LinearizabilityChecker.check(unique) == .linearizable)
        #expect(LinearizabilityChecker.check(unique + [get(3, "k", nil, 11, 12)]) == .notLinearizable(key: "k"))
        // "a" has two writers, so the pending one is not bounded by the first read of
        // "a". It can still take effect after the put of b.
        let shared = [
            put(1, "k", "a", 0, 1), get(2, "k", "a", 2, 3),
            put(3, "k", "a", 5, nil),
            put(1, "k", "b", 10, 11), get(2, "k", "a", 20, 21),
        ]
        #expect(LinearizabilityChecker.check(shared) == .linearizable)
        // An unobserved pending put is dropped. It cannot explain a read of nil after "a".
        let dropped = [put(1, "k", "a", 0, 1), put(2, "k", "x", 2, nil), get(3, "k", nil, 5, 6)]
        #expect(LinearizabilityChecker.check(dropped) == .notLinearizable(key: "k"))
    }

    @Test func pendingGetIsIgnoredAndPutOutputIsIgnored() {
        let history = [
            KVOperation(client: 1, input: .put(key: "k", value: "a"), output: "junk", call: 0, completion: 1),
            get(2, "k", "nonsense", 2, nil),
            get(3, "k", "a", 3, 4),
        ]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
    }

    @Test func staleReadAfterCompletedPut() {
        let history = [
            put(1, "k", "a", 0, 1),
            put(1, "k", "b", 2, 3),
            get(2, "k", "a", 4, 5),
        ]
        #expect(LinearizabilityChecker.check(history) == .notLinearizable(key: "k"))
    }

    @Test func readOfValueNeverWritten() {
        #expect(LinearizabilityChecker.check([put(1, "k", "a", 0, 1), get(2, "k", "z", 0, 5)]) == .notLinearizable(key: "k"))
        // Written only under another key.
        #expect(LinearizabilityChecker.check([put(1, "other", "z", 0, 1), get(2, "k", "z", 2, 5)]) == .notLinearizable(key: "k"))
    }

    @Test func readsInAnOrderNoLinearizationAllows() {
        // Both puts are concurrent with everything. The reads, which follow one another
        // in real time, see x, then y, then x again. That needs x before y and y before x.
        let racing = [put(1, "k", "x", 0, 100), put(2, "k", "y", 0, 100)]
        let flipFlop = [get(3, "k", "x", 10, 15), get(4, "k", "y", 20, 25), get(3, "k", "x", 30, 35)]
        #expect(LinearizabilityChecker.check(racing + flipFlop) == .notLinearizable(key: "k"))
        #expect(LinearizabilityChecker.check(racing + flipFlop.dropLast()) == .linearizable)
        // The put of x is finished before the put of y starts. Once y is seen, x cannot come back.
        let ordered = [put(1, "k", "x", 0, 5), put(2, "k", "y", 10, 50), get(3, "k", "y", 20, 25), get(4, "k", "x", 30, 35)]
        #expect(LinearizabilityChecker.check(ordered) == .notLinearizable(key: "k"))
    }

    @Test func readOfNilAfterCompletedPut() {
        #expect(LinearizabilityChecker.check([put(1, "k", "a", 0, 1), get(2, "k", nil, 2, 3)]) == .notLinearizable(key: "k"))
        // Allowed while the put is still running, or if it never answered.
        #expect(LinearizabilityChecker.check([put(1, "k", "a", 0, 10), get(2, "k", nil, 2, 3)]) == .linearizable)
        #expect(LinearizabilityChecker.check([put(1, "k", "a", 0, nil), get(2, "k", nil, 2, 3)]) == .linearizable)
    }

    @Test func keysAreIndependentRegisters() {
        // Fine per key. Wrong if both keys were one register: the read of b=nil comes after a=1.
        let history = [put(1, "a", "1", 0, 1), get(2, "b", nil, 2, 3), get(2, "a", "1", 4, 5), put(1, "b", "2", 6, 7)]
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        // A failing key is named, and keys are checked in sorted order.
        let staleB = [put(1, "b", "1", 0, 1), put(1, "b", "2", 2, 3), get(2, "b", "1", 4, 5)]
        let staleC = staleB.map { operation -> KVOperation in
            var copy = operation
            switch copy.input {
            case .put(_, let value): copy.input = .put(key: "c", value: value)
            case .get: copy.input = .get(key: "c")
            }
            return copy
        }
        #expect(LinearizabilityChecker.check(history + staleB) == .notLinearizable(key: "b"))
        #expect(LinearizabilityChecker.check(staleC + history + staleB) == .notLinearizable(key: "b"))
    }

    @Test func budgetGivesUndecided() {
        // 40 sequential operations need at least 40 memoized configurations.
        var history: [KVOperation] = []
        for step in 0..<20 {
            let t = UInt64(step * 4)
            history += [put(1, "k", "v\(step)", t, t + 1), get(1, "k", "v\(step)", t + 2, t + 3)]
        }
        #expect(LinearizabilityChecker.check(history, maxStatesPerKey: 10) == .undecided(key: "k"))
        #expect(LinearizabilityChecker.check(history, maxStatesPerKey: 40) == .linearizable)
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        // A proven violation on another key beats an undecided one, even if it sorts later.
        let violation = [put(1, "z", "a", 0, 1), get(2, "z", nil, 2, 3)]
        #expect(LinearizabilityChecker.check(history + violation, maxStatesPerKey: 10) == .notLinearizable(key: "z"))
    }
}

// MARK: - Randomized


/// Runs clients against a sequential map, giving each operation a call, a linearization
/// point and a response at distinct steps of one schedule. Every value written is unique.
/// Time advances by 0, 1 or 2 per step, so some events share an instant. Some operations
/// never answer: either before taking effect, or after it.
private func generateLinearizableHistory(
    seed: UInt64, clients: Int, operationsPerClient: Int, keys: [String]
) -> [KVOperation] {
    enum Phase { case idle, invoked(Int), applied(Int) }
    var rng = SplitMix64(seed: seed)
    var store: [String: String] = [:]
    var history: [KVOperation] = []
    var phases = Array(repeating: Phase.idle, count: clients)
    var remaining = Array(repeating: operationsPerClient, count: clients)
    var now: UInt64 = 0
    while true {
        let live = (0..<clients).filter { client in
            if case .idle = phases[client] { return remaining[client] > 0 }
            return true
        }
        guard let client = live.randomElement(using: &rng) else { break }
        now += UInt64.random(in: 0...2, using: &rng)
        switch phases[client] {
        case .idle:
            remaining[client] -= 1
            let key = keys.randomElement(using: &rng)!
            let input: KVOperation.Input =
                Bool.random(using: &rng)
                ? .put(key: key, value: "c\(client)-\(remaining[client])") : .get(key: key)
            history.append(KVOperation(client: client, input: input, output: nil, call: now, completion: nil))
            phases[client] = .invoked(history.count - 1)
        case .invoked(let index):
            if Int.random(in: 0..<100, using: &rng) == 0 {
                phases[client] = .idle  // lost before taking effect
                continue
            }
            switch history[index].input {
            case .put(let key, let value): store[key] = value
            case .get(let key): history[index].output = store[key]
            }
            phases[client] = .applied(index)
        case .applied(let index):
            if Int.random(in: 0..<100, using: &rng) != 0 {  // otherwise the response is lost
                history[index].completion = now
            }
            phases[client] = .idle
        }
    }
    return history
}

/// Ways to give a completed get an output that no linearization can explain. Values
/// must be unique per put for these to be sound.
private enum Corruption: CaseIterable {
    /// The value of a put `P`, where another put `Q` follows `P` and precedes the read in real time.
    case overwritten
    /// Nil, when some put finished before the read started.
    case absentAfterPut
    /// The value of a put that starts after the read ended.
    case fromTheFuture
}

/// Applies `kind` to a random completed get that allows it. Returns the corrupted
/// history and the key, or nil if no get allows it.
private func corruptOneRead(
    _ history: [KVOperation], _ kind: Corruption, using rng: inout SplitMix64
) -> ([KVOperation], String)? {
    func precedes(_ a: KVOperation, _ b: KVOperation) -> Bool {
        guard let end = a.completion else { return false }
        return end < b.call
    }
    var putsByKey: [String: [(operation: KVOperation, value: String)]] = [:]
    for operation in history {
        if case .put(let key, let value) = operation.input { putsByKey[key, default: []].append((operation, value)) }
    }
    let reads = history.indices.filter { index in
        if case .get = history[index].input { return history[index].completion != nil }
        return false
    }
    for index in reads.shuffled(using: &rng) {
        let read = history[index]
        let puts = putsByKey[keyOf(read)] ?? []
        let replacement: String??
        switch kind {
        case .overwritten:
            replacement = puts.first { p in
                p.value != read.output && puts.contains { q in precedes(p.operation, q.operation) && precedes(q.operation, read) }
            }.map { .some($0.value) }
        case .absentAfterPut:
            replacement = read.output != nil && puts.contains { precedes($0.operation, read) } ? .some(nil) : nil
        case .fromTheFuture:
            replacement = puts.first { precedes(read, $0.operation) }.map { .some($0.value) }
        }
        if let replacement {
            var corrupted = history
            corrupted[index].output = replacement
            return (corrupted, keyOf(read))
        }
    }
    return nil
}

/// An independent, exhaustive oracle for small one-key histories. It tries every order
/// that respects real time. Pending gets are dropped. A pending put may be applied or
/// skipped. There is no memoization and no "pending put last" shortcut.
private func bruteForceLinearizable(_ history: [KVOperation]) -> Bool {
    let operations = history.filter { operation in
        if case .get = operation.input, operation.completion == nil { return false }
        return true
    }
    func search(_ remaining: [KVOperation], _ state: String?) -> Bool {
        if remaining.allSatisfy({ $0.completion == nil }) { return true }
        for (index, candidate) in remaining.enumerated() {
            let blocked = remaining.contains { other in other.completion.map { $0 < candidate.call } ?? false }
            if blocked { continue }
            var rest = remaining
            rest.remove(at: index)
            switch candidate.input {
            case .put(_, let value):
                if search(rest, value) { return true }
                if candidate.completion == nil, search(rest, state) { return true }
            case .get:
                if candidate.output == state, search(rest, state) { return true }
            }
        }
        return false
    }
    return search(operations, nil)
}

@Suite("Linearizability checker: randomized histories")
struct LinearizabilityRandomizedTests {
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func generatedHistoriesPassAndCorruptedReadsFail(seed: UInt64) throws {
        let history = generateLinearizableHistory(seed: seed, clients: 5, operationsPerClient: 200, keys: ["k0", "k1", "k2"])
        #expect(history.count == 1000)
        // Not vacuous: operations overlap, and some never answered.
        #expect(history.contains { $0.completion == nil })
        let overlapping = history.indices.dropFirst().filter { index in
            history[..<index].contains { ($0.completion ?? .max) >= history[index].call && $0.client != history[index].client }
        }
        #expect(overlapping.count > 500)
        #expect(LinearizabilityChecker.check(history) == .linearizable)
        var rng = SplitMix64(seed: seed &* 7919)
        #expect(LinearizabilityChecker.check(history.shuffled(using: &rng)) == .linearizable)

        for kind in Corruption.allCases {
            let (corrupted, key) = try #require(corruptOneRead(history, kind, using: &rng))
            #expect(LinearizabilityChecker.check(corrupted) == .notLinearizable(key: key), "\(kind)")
        }
    }

    @Test func agreesWithBruteForceOnSmallRandomHistories() {
        var rng = SplitMix64(seed: 42)
        var outcomes = (linearizable: 0, not: 0)
        for _ in 0..<600 {
            let count = Int.random(in: 1...7, using: &rng)
            let history = (0..<count).map { client -> KVOperation in
                let call = UInt64.random(in: 0..<12, using: &rng)
                let completion: UInt64? =
                    Int.random(in: 0..<6, using: &rng) == 0 ? nil : call + UInt64.random(in: 0..<6, using: &rng)
                if Bool.random(using: &rng) {
                    return put(client, "k", ["a", "b", "c"].randomElement(using: &rng)!, call, completion)
                }
                return get(client, "k", [nil, "a", "b", "c"].randomElement(using: &rng)!, call, completion)
            }
            let expected = bruteForceLinearizable(history)
            let verdict = LinearizabilityChecker.check(history)
            #expect(verdict == (expected ? .linearizable : .notLinearizable(key: "k")), "\(history)")
            if expected { outcomes.linearizable += 1 } else { outcomes.not += 1 }
        }
        #expect(outcomes.linearizable > 100)
        #expect(outcomes.not > 100)
    }
}

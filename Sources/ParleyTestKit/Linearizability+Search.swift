// The WGL search on one register, with Lowe's memoization (see Linearizability.swift).

/// The Wing & Gong / Lowe search over the event list of one register history.
///
/// Events live in a doubly linked list kept in arrays. Index 0 is the head sentinel and
/// `-1` means "none". Linearizing an operation removes its call and return entries.
/// Backtracking puts them back in reverse order, using the links the removed entries
/// still hold (dancing links).
struct RegisterSearch {
    enum Outcome: Equatable {
        case linearizable
        case notLinearizable
        case budgetExhausted
    }

    private let operations: [Operation]
    private var next: [Int]
    private var previous: [Int]
    /// For each entry, the operation it belongs to (unused for the head).
    private var operationOfEntry: [Int]
    /// For each entry, whether it is a call (`false` for returns and the head).
    private var isCall: [Bool]
    /// For each call entry, its return entry.
    private var returnOfCall: [Int]
    /// For each operation, its bit in the linearized set: the rank of its return.
    private var bitOfOperation: [Int]

    init(_ operations: [Operation]) {
        self.operations = operations
        struct Event {
            var operation: Int
            var isCall: Bool
            var time: UInt64
            var isInfinite: Bool
        }
        var events: [Event] = []
        events.reserveCapacity(operations.count * 2)
        for (index, operation) in operations.enumerated() {
            events.append(Event(operation: index, isCall: true, time: operation.call, isInfinite: false))
            events.append(
                Event(
                    operation: index, isCall: false, time: operation.completion ?? .max,
                    isInfinite: operation.completion == nil))
        }
        // Calls go before returns at the same instant, so touching intervals overlap.
        // Ties between entries of the same kind break on operation index, to keep runs
        // deterministic.
        events.sort { a, b in
            if a.isInfinite != b.isInfinite { return !a.isInfinite }
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.operation < b.operation
        }

        let entryCount = events.count + 1
        next = (0..<entryCount).map { $0 + 1 < entryCount ? $0 + 1 : -1 }
        previous = (0..<entryCount).map { $0 - 1 }
        operationOfEntry = [-1] + events.map(\.operation)
        isCall = [false] + events.map(\.isCall)
        returnOfCall = Array(repeating: -1, count: entryCount)
        bitOfOperation = Array(repeating: -1, count: operations.count)
        var callEntryOfOperation = Array(repeating: -1, count: operations.count)
        var returnsSeen = 0
        for (offset, event) in events.enumerated() {
            let entry = offset + 1
            if event.isCall {
                callEntryOfOperation[event.operation] = entry
            } else {
                returnOfCall[callEntryOfOperation[event.operation]] = entry
                bitOfOperation[event.operation] = returnsSeen
                returnsSeen += 1
            }
        }
    }

    /// Runs the search. It stops with `.budgetExhausted` once `maxStates` configurations
    /// are memoized and a new one turns up.
    mutating func run(maxStates: Int) -> Outcome {
        if operations.isEmpty { return .linearizable }
        var memo = Set<MemoKey>()
        var linearized = Bitset(capacity: operations.count)
        var stack: [(callEntry: Int, stateBefore: Int32)] = []
        var state: Int32 = 0
        var entry = next[0]

        // While some entry is left, the last one is a return, so `entry` never runs off the end.
        while next[0] != -1 {
            let operationIndex = operationOfEntry[entry]
            if isCall[entry] {
                let operation = operations[operationIndex]
                if operation.isPut || operation.value == state {
                    let newState = operation.value
                    linearized.insert(bitOfOperation[operationIndex])
                    if memo.insert(linearized.memoKey(state: newState)).inserted {
                        if memo.count > maxStates { return .budgetExhausted }
                        stack.append((entry, state))
                        state = newState
                        lift(entry)
                        entry = next[0]
                        continue
                    }
                    linearized.remove(bitOfOperation[operationIndex])
                }
                entry = next[entry]
            } else {
                // A return whose operation is not linearized: this branch is dead.
                guard let top = stack.popLast() else { return .notLinearizable }
                state = top.stateBefore
                linearized.remove(bitOfOperation[operationOfEntry[top.callEntry]])
                unlift(top.callEntry)
                entry = next[top.callEntry]
            }
        }
        return .linearizable
    }

    /// Removes a call entry and its return entry from the list.
    private mutating func lift(_ call: Int) {
        let ret = returnOfCall[call]
        next[previous[call]] = next[call]
        previous[next[call]] = previous[call]  // a call is always followed by its return
        next[previous[ret]] = next[ret]
        if next[ret] != -1 { previous[next[ret]] = previous[ret] }
    }

    /// Puts back a call entry and its return entry, undoing the matching `lift`.
    private mutating func unlift(_ call: Int) {
        let ret = returnOfCall[call]
        next[previous[ret]] = ret
        if next[ret] != -1 { previous[next[ret]] = ret }
        next[previous[call]] = call
        previous[next[call]] = call
    }
}

extension RegisterSearch {
    /// One operation on a single register. Values are interned: 0 is "absent" and each
    /// distinct written string is a positive number.
    struct Operation {
        /// `true` for a put of `value`, `false` for a get that read `value`.
        var isPut: Bool
        var value: Int32
        var call: UInt64
        /// `nil` for a pending operation, which is treated as returning at +infinity.
        /// Otherwise at least `call`.
        var completion: UInt64?
    }

    /// The set of linearized operations. Bit `i` is the operation with the `i`-th earliest
    /// return.
    struct Bitset {
        private(set) var words: [UInt64]

        init(capacity: Int) {
            words = Array(repeating: 0, count: (capacity + 63) / 64)
        }

        mutating func insert(_ index: Int) {
            words[index >> 6] |= 1 << UInt64(index & 63)
        }

        mutating func remove(_ index: Int) {
            words[index >> 6] &= ~(1 << UInt64(index & 63))
        }

        /// An exact, compact description of the set, for the memo. The search reaches the
        /// return of an unlinearized operation only to backtrack, so every linearized
        /// operation was called before the earliest unlinearized return. Bits set well after
        /// that point are therefore limited to the operations in flight there, plus pending
        /// ones. The key stores the index of the first word that is not all ones, and the
        /// words from there to the last non-zero word.
        func memoKey(state: Int32) -> MemoKey {
            var first = 0
            while first < words.count, words[first] == .max { first += 1 }
            var last = words.count - 1
            while last >= first, words[last] == 0 { last -= 1 }
            return MemoKey(fullWords: Int32(first), state: state, tail: last >= first ? Array(words[first...last]) : [])
        }
    }

    /// One memoized configuration: which operations are linearized (see
    /// ``Bitset/memoKey(state:)``) and the register value after them.
    struct MemoKey: Hashable {
        var fullWords: Int32
        var state: Int32
        var tail: [UInt64]
    }
}

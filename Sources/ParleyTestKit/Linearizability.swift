// Linearizability checking for key-value register histories.
//
// The algorithm is Wing & Gong's search with Lowe's memoization, as in Porcupine.
// Keys are independent registers (P-compositionality, Horn & Kroening), so each key
// is checked on its own. Each operation of a key becomes a call event and a return
// event, and all events go into one doubly linked list sorted by time. The search
// walks the list. At a call whose operation the register can perform from the
// current state, it "linearizes" the operation: it pushes it on a stack, removes the
// call and its return from the list, and starts again from the head. When it reaches
// a return whose operation has not been linearized, every possible order is stuck,
// so it pops the last choice, puts it back, and tries the next call after it. The
// history is linearizable when the list is empty. A memo set of (bitset of
// linearized operations, register value) skips configurations already explored.
// This keeps the search polynomial for bounded concurrency. `maxStatesPerKey` caps
// the size of that set. Before the search, pending puts are dropped or given a
// deadline where that cannot change the verdict (`checkRegister`).

/// One client operation on the key-value store, as recorded by a simulation or a test client.
public struct KVOperation: Sendable, Equatable {
    /// What the client asked for.
    public enum Input: Sendable, Equatable {
        /// Set `key` to `value`. A put returns nothing.
        case put(key: String, value: String)
        /// Read `key`.
        case get(key: String)
    }

    /// The client that issued the operation. It is informational only: the checker does
    /// not assume that one client's operations are sequential.
    public var client: Int
    /// The request.
    public var input: Input
    /// For a get, the value read (`nil` means the key was absent). Ignored for a put.
    public var output: String?
    /// The instant the operation was invoked, on any monotonic counter shared by all clients.
    public var call: UInt64
    /// The instant the response arrived, or `nil` if no response ever arrived. Then the
    /// operation may or may not have taken effect. A pending get is ignored. A pending
    /// put may take effect at any point after `call`, or never.
    public var completion: UInt64?

    /// Creates an operation record.
    public init(client: Int, input: Input, output: String?, call: UInt64, completion: UInt64?) {
        self.client = client
        self.input = input
        self.output = output
        self.call = call
        self.completion = completion
    }
}

/// The result of ``LinearizabilityChecker/check(_:maxStatesPerKey:)``.
public enum LinearizabilityVerdict: Sendable, Equatable {
    /// Every key's sub-history has a linearization.
    case linearizable
    /// This key's sub-history has no linearization. If several keys fail, this is the
    /// first in sorted key order.
    case notLinearizable(key: String)
    /// No key was shown to be non-linearizable, but this key (the first in sorted order)
    /// used up the search budget before an answer was found.
    case undecided(key: String)
}

/// Checks a history of register operations for linearizability (WGL search with
/// memoization, checked one key at a time).
public enum LinearizabilityChecker {
    /// Decides whether `history` is linearizable. Each key is an independent register
    /// that starts absent.
    ///
    /// Real-time order is strict. Operation A precedes B only if
    /// `A.completion < B.call`. Operations whose intervals touch
    /// (`A.completion == B.call`) count as concurrent and may be ordered either way.
    /// A completion earlier than its call is treated as equal to the call.
    ///
    /// A pending get (`completion == nil`) is dropped. A pending put never ends, so it
    /// may be linearized at any point after its call. Leaving it out is the same as
    /// linearizing it last, because no read follows it then. Pending puts make the search
    /// expensive. Unique written values let the checker drop or bound them (see
    /// `checkRegister`), so histories with unique values check much faster.
    ///
    /// Keys are checked in sorted order. If any key is not linearizable, the first such
    /// key is returned, even when an earlier key was undecided.
    ///
    /// - Parameters:
    ///   - history: The operations, in any order.
    ///   - maxStatesPerKey: The most memoized search configurations allowed for one key.
    ///     A key that needs more is reported as ``LinearizabilityVerdict/undecided(key:)``.
    ///     Memory grows with this number. A configuration costs about 100 bytes, plus
    ///     one bit per operation in flight at that point in the search.
    /// - Returns: The verdict for the whole history.
    public static func check(_ history: [KVOperation], maxStatesPerKey: Int = 1_000_000) -> LinearizabilityVerdict {
        var operationsByKey: [String: [KVOperation]] = [:]
        for operation in history {
            operationsByKey[operation.key, default: []].append(operation)
        }
        var firstUndecided: String?
        for key in operationsByKey.keys.sorted() {
            switch checkRegister(operationsByKey[key]!, maxStates: maxStatesPerKey) {
            case .linearizable:
                continue
            case .notLinearizable:
                return .notLinearizable(key: key)
            case .budgetExhausted:
                if firstUndecided == nil { firstUndecided = key }
            }
        }
        if let firstUndecided { return .undecided(key: firstUndecided) }
        return .linearizable
    }

    /// Checks the operations on one key. Values are replaced by small integers, where
    /// 0 means absent. Before the search, two steps run that keep the verdict exact:
    /// - A read that no put could explain fails at once: its value is never written, or
    ///   every put of it starts after the read returned.
    /// - Pending puts are tightened. If no completed get reads its value, a pending put
    ///   is dropped. If it is the only put of its value, it must take effect before the
    ///   first read of that value returns, so that instant becomes its completion. Only
    ///   pending puts sharing their value with another put keep the infinite completion.
    static func checkRegister(_ operations: [KVOperation], maxStates: Int) -> RegisterSearch.Outcome {
        var valueIDs: [String: Int32] = [:]
        var writers: [Int32: Int] = [:]
        var earliestPutCall: [Int32: UInt64] = [:]
        for operation in operations {
            guard case .put(_, let value) = operation.input else { continue }
            let id = valueIDs[value] ?? Int32(valueIDs.count + 1)
            valueIDs[value] = id
            writers[id, default: 0] += 1
            earliestPutCall[id] = min(earliestPutCall[id] ?? .max, operation.call)
        }

        var registerOperations: [RegisterSearch.Operation] = []
        registerOperations.reserveCapacity(operations.count)
        var firstReadReturn: [Int32: UInt64] = [:]
        for operation in operations {
            guard case .get = operation.input, let completion = operation.clampedCompletion else { continue }
            var id: Int32 = 0
            if let output = operation.output {
                guard let known = valueIDs[output], earliestPutCall[known]! <= completion else {
                    return .notLinearizable
                }
                id = known
                firstReadReturn[id] = min(firstReadReturn[id] ?? .max, completion)
            }
            registerOperations.append(RegisterSearch.Operation(isPut: false, value: id, call: operation.call, completion: completion))
        }

        for operation in operations {
            guard case .put(_, let value) = operation.input else { continue }
            let id = valueIDs[value]!
            var completion = operation.clampedCompletion
            if completion == nil {
                guard let deadline = firstReadReturn[id] else { continue }  // never observed: drop
                if writers[id] == 1 { completion = max(deadline, operation.call) }
            }
            registerOperations.append(RegisterSearch.Operation(isPut: true, value: id, call: operation.call, completion: completion))
        }
        var search = RegisterSearch(registerOperations)
        return search.run(maxStates: maxStates)
    }
}

extension KVOperation {
    /// The key the operation addresses.
    var key: String {
        switch input {
        case .put(let key, _), .get(let key): key
        }
    }

    /// The completion, or `nil` if pending. A completion earlier than the call becomes the call.
    var clampedCompletion: UInt64? {
        completion.map { max($0, call) }
    }
}

import ParleyDomain
import Synchronization

/// What this node recently learnt of staff accounts that another node serves: the stored
/// token hash and role, kept for `lifetime`, so a busy client's every request does not cost a
/// call to that node. A token rotated (or an account changed) on another node is still taken
/// here for at most `lifetime`; accounts this node serves are always read afresh.
final class CredentialCache: Sendable {
    struct Entry: Sendable {
        let tokenHash: [UInt8]
        let role: StaffRole
        let storedAt: ContinuousClock.Instant
    }

    let lifetime: Duration
    /// Entries beyond which the cache starts afresh (a bound on memory, not an LRU).
    let capacity: Int
    private let entries = Mutex<[StaffID: Entry]>([:])

    init(lifetime: Duration = .seconds(2), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The credentials of `staff` if they were stored less than `lifetime` before `now`.
    func credentials(of staff: StaffID, now: ContinuousClock.Instant = .now) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[staff] else { return nil }
            guard now - entry.storedAt < lifetime else {
                entries[staff] = nil
                return nil
            }
            return entry
        }
    }

    func store(_ staff: StaffID, tokenHash: [UInt8], role: StaffRole, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[staff] = Entry(tokenHash: tokenHash, role: role, storedAt: now)
        }
    }

    /// Forgets `staff` (its token was rotated through this node).
    func forget(_ staff: StaffID) { _ = entries.withLock { $0.removeValue(forKey: staff) } }
}

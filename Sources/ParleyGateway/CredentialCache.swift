import ParleyDomain
import Synchronization

/// What this node recently learnt of staff accounts: the stored token hash and role. Those of
/// accounts another node serves are trusted for `lifetime`, so a busy client's every request
/// does not cost a call to that node (a token rotated on another node is still taken here for
/// at most `lifetime`); accounts this node serves are always read afresh. Any account's last
/// known credentials stand in for up to `outageGrace` while its partition cannot answer (a
/// failover, a split): a token can only have changed through that partition, and its staff
/// member keeps working meanwhile, as with a signed token valid until it expires.
final class CredentialCache: Sendable {
    struct Entry: Sendable {
        let tokenHash: [UInt8]
        let role: StaffRole
        let storedAt: ContinuousClock.Instant
        /// Read from another node's account (trusted for `lifetime` without asking).
        let remote: Bool
    }

    let lifetime: Duration
    let outageGrace: Duration
    /// Entries beyond which the cache starts afresh (a bound on memory, not an LRU).
    let capacity: Int
    private let entries = Mutex<[StaffID: Entry]>([:])

    init(lifetime: Duration = .seconds(2), outageGrace: Duration = .seconds(60), capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.outageGrace = max(outageGrace, lifetime)
        self.capacity = capacity
    }

    /// The credentials of `staff`, an account another node serves, if they were stored less
    /// than `lifetime` before `now`.
    func credentials(of staff: StaffID, now: ContinuousClock.Instant = .now) -> Entry? {
        guard let entry = lastKnown(of: staff, now: now), entry.remote, now - entry.storedAt < lifetime else { return nil }
        return entry
    }

    /// The last credentials stored for `staff` within `outageGrace` before `now`, for when its
    /// partition cannot answer.
    func lastKnown(of staff: StaffID, now: ContinuousClock.Instant = .now) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[staff] else { return nil }
            guard now - entry.storedAt < outageGrace else {
                entries[staff] = nil
                return nil
            }
            return entry
        }
    }

    /// Stores what was read of `staff`; `remote`: from another node's account.
    func store(_ staff: StaffID, tokenHash: [UInt8], role: StaffRole, remote: Bool = true, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[staff] == nil { entries.removeAll(keepingCapacity: true) }
            entries[staff] = Entry(tokenHash: tokenHash, role: role, storedAt: now, remote: remote)
        }
    }

    /// Forgets `staff` (its token was rotated through this node).
    func forget(_ staff: StaffID) { _ = entries.withLock { $0.removeValue(forKey: staff) } }
}

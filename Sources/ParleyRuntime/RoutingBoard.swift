import Foundation
import ParleyCluster
import ParleyDomain
import Synchronization

/// What one node knows for routing enquiries, as soft state: every destination (from the
/// `destinations` listing) and the status of every staff member who is online somewhere
/// (announced by the node leading their account's partition, renewed every second and
/// forgotten after `lifetime`). Enquiry actors route with it synchronously (`RoutingFacts`);
/// `RoutingBoardService` keeps it current. A node that dies stops renewing, so its staff fall
/// out within the lifetime; their presence lives on in the interest any other node renews.
public final class RoutingBoard: RoutingFacts, Sendable {
    struct Known: Sendable {
        var status: StaffStatus
        var renewedAt: ContinuousClock.Instant
    }

    struct Tables: Sendable {
        var statuses: [StaffID: Known] = [:]
        var destinations: [DestinationID: DestinationProfile] = [:]
        /// The durable part (availability, capacity, open enquiries) of accounts this node
        /// leads, as last committed or loaded.
        var accounts: [StaffID: StaffStatus] = [:]
        /// The zones the database knew, by name.
        var zones: [String: TimeZone] = [:]
        /// Open offers per staff member (the Open Enquiry panel), from enquiries' notices.
        var offers = OfferTable()
    }

    /// How long a status lasts without being renewed.
    public let lifetime: Duration
    let tables = Mutex(Tables())
    /// Rung when an account this node leads changes, so its status goes out at once.
    let changed = Doorbell()

    public init(lifetime: Duration = .seconds(3)) {
        self.lifetime = lifetime
    }

    // MARK: RoutingFacts

    public func destination(_ id: DestinationID) -> DestinationProfile? { tables.withLock { $0.destinations[id] } }

    public func status(of staff: StaffID) -> StaffStatus? {
        let now = ContinuousClock.now
        return tables.withLock { tables in
            guard let known = tables.statuses[staff], now - known.renewedAt <= lifetime else { return nil }
            return known.status
        }
    }

    public func utcOffsetSeconds(zone: String, at instant: Timestamp) -> Int? {
        timeZone(zone)?.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.milliseconds) / 1_000))
    }

    /// Whether the time zone database knows `zone`.
    public func knowsZone(_ zone: String) -> Bool { BusinessHours.isZoneName(zone) && timeZone(zone) != nil }

    /// The zone, from the cache or the database (read outside the lock; only names the
    /// database knows are cached, so made-up names cannot fill it).
    private func timeZone(_ zone: String) -> TimeZone? {
        if let cached = tables.withLock({ $0.zones[zone] }) { return cached }
        guard BusinessHours.isZoneName(zone), let found = TimeZone(identifier: zone) else { return nil }
        tables.withLock { tables in if tables.zones.count < 1_000 { tables.zones[zone] = found } }
        return found
    }

    // MARK: Keeping it current

    /// Statuses announced by the nodes leading the accounts (or computed here).
    public func merge(_ statuses: [StaffID: StaffStatus], now: ContinuousClock.Instant = .now) {
        tables.withLock { tables in
            for (staff, status) in statuses { tables.statuses[staff] = Known(status: status, renewedAt: now) }
        }
    }

    /// Replaces every destination (the listing as read).
    public func setDestinations(_ destinations: [DestinationID: DestinationProfile]) {
        tables.withLock { $0.destinations = destinations }
    }

    /// A destination this node leads committed a change.
    func destinationChanged(_ destination: DestinationState) {
        tables.withLock { $0.destinations[destination.id] = destination.exists ? destination.profile : nil }
    }

    /// An account this node leads committed a change (or was loaded).
    func accountChanged(_ account: StaffState) {
        guard account.exists else { return }
        tables.withLock { $0.accounts[account.id] = account.status(online: false) }
        changed.ring()
    }

    /// The durable part of the accounts this node knows.
    func accounts(_ staff: some Sequence<StaffID>) -> [StaffID: StaffStatus] {
        tables.withLock { tables in
            var found: [StaffID: StaffStatus] = [:]
            for member in staff { if let status = tables.accounts[member] { found[member] = status } }
            return found
        }
    }

    /// Forgets accounts of partitions this node no longer leads, and statuses long expired
    /// (`keep` asks the Raft driver: it runs outside the lock).
    func prune(keepingAccounts keep: (StaffID) -> Bool, now: ContinuousClock.Instant) {
        let known = tables.withLock { Array($0.accounts.keys) }
        let gone = Set(known.filter { !keep($0) })
        tables.withLock { tables in
            for staff in gone { tables.accounts[staff] = nil }
            tables.statuses = tables.statuses.filter { now - $0.value.renewedAt <= lifetime * 10 }
            tables.offers.sweep(now: now)
        }
    }

    /// The destinations `staff` belongs to.
    func destinations(of staff: StaffID) -> [DestinationID] {
        tables.withLock { tables in tables.destinations.filter { $0.value.members.contains(staff) }.map(\.key).sorted() }
    }
}

/// The open offers one node knows, per staff member, from enquiries' notices (the Open Enquiry
/// panel), with each enquiry's notice order: a pure table the node's routing board holds under
/// its lock. Soft: an offer whose end is never heard lapses after `offerLifetime`.
public struct OfferTable: Sendable {
    struct Held: Sendable {
        let note: EnquiryOfferNote
        let since: ContinuousClock.Instant
    }

    private var offers: [StaffID: [EnquiryID: Held]] = [:]
    private var count = 0
    /// The last notice sequence heard of each enquiry, and when.
    private var orders: [EnquiryID: (seq: UInt64, at: ContinuousClock.Instant)] = [:]
    private var sweptAt: ContinuousClock.Instant?

    /// The longest an offer stays without its end heard (the longest offer timeout).
    public static let offerLifetime: Duration = .seconds(3_600)
    /// At most this many offers are held (a bound on memory, far above any workspace's).
    public static let maxOffers = 1_000_000
    /// How long an enquiry's order is kept after its last offer left: longer than a failover
    /// takes to deliver a notice again.
    public static let orderWindow: Duration = .seconds(120)
    /// How often offers are swept for their lifetime (reads skip the stale ones meanwhile).
    public static let sweepInterval: Duration = .seconds(60)

    public init() {}

    /// Applies one decision's notices: offers made, ended, and taken up by their winner. With
    /// an `order`, notices no newer than the last heard of their enquiry are ignored; answers
    /// whether they were applied.
    public mutating func note(_ notices: EnquiryNotices, order: NoticeOrder?, now: ContinuousClock.Instant) -> Bool {
        if let order {
            if let last = orders[order.enquiry], last.seq >= order.seq { return false }
            orders[order.enquiry] = (order.seq, now)
        }
        for addressed in notices.notices {
            switch addressed.notice {
            case let .offered(note):
                guard count < Self.maxOffers || offers[addressed.staff]?[note.enquiry] != nil else { continue }
                if offers[addressed.staff, default: [:]].updateValue(Held(note: note, since: now), forKey: note.enquiry) == nil { count += 1 }
            case let .offerEnded(enquiry, _), let .assigned(enquiry):
                remove(enquiry, of: addressed.staff)
            case .released:
                break
            }
        }
        return true
    }

    /// The offers `staff` holds, oldest enquiry first.
    public func offers(of staff: StaffID, now: ContinuousClock.Instant) -> [EnquiryOfferNote] {
        (offers[staff] ?? [:]).values.filter { now - $0.since <= Self.offerLifetime }.map(\.note)
            .sorted { ($0.openedAt, $0.enquiry) < ($1.openedAt, $1.enquiry) }
    }

    /// The open offers of the enquiries `including` accepts, one group per enquiry with the
    /// order of the last notice heard of it (a peer that lost them applies a group only if
    /// newer than what it heard itself).
    public func openOffers(including: (EnquiryID) -> Bool, now: ContinuousClock.Instant) -> [OpenOffers] {
        var groups: [EnquiryID: [EnquiryNotices.Addressed]] = [:]
        for (staff, held) in offers {
            for (enquiry, offer) in held where now - offer.since <= Self.offerLifetime && including(enquiry) {
                groups[enquiry, default: []].append(EnquiryNotices.Addressed(staff: staff, notice: .offered(offer.note)))
            }
        }
        return groups.sorted { $0.key < $1.key }.map { enquiry, notices in
            OpenOffers(order: orders[enquiry].map { NoticeOrder(enquiry: enquiry, seq: $0.seq) }, notices: EnquiryNotices(notices))
        }
    }

    /// Forgets `staff`'s offer of `enquiry` if it is still the one made at `offeredAt` (an
    /// offer made again meanwhile stays).
    public mutating func forget(_ enquiry: EnquiryID, of staff: StaffID, offeredAt: Timestamp) {
        guard offers[staff]?[enquiry]?.note.offeredAt == offeredAt else { return }
        remove(enquiry, of: staff)
    }

    /// Drops lapsed offers, and orders of enquiries with no offer left past `orderWindow`, at
    /// most once per `sweepInterval` (a sweep walks every offer).
    public mutating func sweep(now: ContinuousClock.Instant) {
        if let swept = sweptAt, now - swept < Self.sweepInterval, now >= swept { return }
        sweptAt = now
        for (staff, held) in offers {
            for (enquiry, offer) in held where now - offer.since > Self.offerLifetime { remove(enquiry, of: staff) }
        }
        let offered = Set(offers.values.flatMap(\.keys))
        orders = orders.filter { offered.contains($0.key) || now - $0.value.at <= Self.orderWindow }
    }

    private mutating func remove(_ enquiry: EnquiryID, of staff: StaffID) {
        guard offers[staff]?.removeValue(forKey: enquiry) != nil else { return }
        count -= 1
        if offers[staff]?.isEmpty == true { offers[staff] = nil }
    }
}

/// Where one delivery of an enquiry's notices stands in its order: the delivery's sequence,
/// increasing with each decision of the enquiry (across failovers: it follows the log).
public struct NoticeOrder: Sendable, Equatable {
    public let enquiry: EnquiryID
    public let seq: UInt64

    public init(enquiry: EnquiryID, seq: UInt64) {
        self.enquiry = enquiry
        self.seq = seq
    }
}

/// One enquiry's open offers as a table holds them, with the order of the last notice heard
/// of that enquiry (nil: heard unordered, from a node of an earlier version).
public struct OpenOffers: Sendable, Equatable {
    public let order: NoticeOrder?
    public let notices: EnquiryNotices

    public init(order: NoticeOrder?, notices: EnquiryNotices) {
        self.order = order
        self.notices = notices
    }
}

extension EnquiryNotices {
    /// What each staff member's sessions are told, in the order first addressed: offers made
    /// and ended (an assignment reaches them from their own entity, which counts it).
    public var sessionUpdates: [(staff: StaffID, notices: [EnquiryNotice])] {
        var updates: [StaffID: [EnquiryNotice]] = [:]
        var order: [StaffID] = []
        for addressed in notices {
            switch addressed.notice {
            case .offered, .offerEnded:
                if updates[addressed.staff] == nil { order.append(addressed.staff) }
                updates[addressed.staff, default: []].append(addressed.notice)
            case .assigned, .released:
                continue
            }
        }
        return order.map { ($0, updates[$0] ?? []) }
    }
}

import ParleyDomain

/// The open offers every node keeps, as soft state, from enquiries' notices
/// (`EnquiryNotices`): what the Open Enquiry panel lists. A node that starts late, or misses a
/// notice, gets the open offers from each enquiry's leader once it exchanges its full interest
/// with that node (`LiveRelay.sendOpenOffers`); one whose end was missed is dropped by the
/// panel's check against the enquiry, or after `offerLifetime`.
extension RoutingBoard {
    /// The longest an offer stays without its end heard (the longest offer timeout).
    static let offerLifetime: Duration = .seconds(3_600)
    /// At most this many offers are held (a bound on memory, far above any workspace's).
    static let maxOffers = 1_000_000

    /// How long an enquiry's last notice sequence is kept after its last offer left the board:
    /// longer than a failover takes to deliver a notice again.
    static let noticeOrderWindow: Duration = .seconds(120)

    /// Applies one decision's notices: offers made, ended, and taken up by their winner.
    /// With an `order`, notices no newer than the last heard of their enquiry are ignored;
    /// answers whether they were applied.
    @discardableResult
    public func note(_ notices: EnquiryNotices, order: NoticeOrder? = nil, now: ContinuousClock.Instant = .now) -> Bool {
        tables.withLock { tables in
            if let order {
                if let last = tables.noticeSeqs[order.enquiry], last.seq >= order.seq { return false }
                tables.noticeSeqs[order.enquiry] = (order.seq, now)
            }
            for addressed in notices.notices {
                switch addressed.notice {
                case let .offered(note):
                    guard tables.offerCount < Self.maxOffers || tables.offers[addressed.staff]?[note.enquiry] != nil else { continue }
                    if tables.offers[addressed.staff, default: [:]].updateValue(HeldOffer(note: note, since: now), forKey: note.enquiry) == nil {
                        tables.offerCount += 1
                    }
                case let .offerEnded(enquiry, _), let .assigned(enquiry):
                    Self.remove(enquiry, of: addressed.staff, from: &tables)
                case .released:
                    break
                }
            }
            return true
        }
    }

    /// The open offers of the enquiries `including` accepts, one group per enquiry with the
    /// sequence of the last notice this board heard of it (what a peer that lost them is sent:
    /// it applies a group only if newer than what it heard itself).
    func openOffers(including: (EnquiryID) -> Bool, now: ContinuousClock.Instant = .now) -> [OpenOffers] {
        tables.withLock { tables in
            var groups: [EnquiryID: [EnquiryNotices.Addressed]] = [:]
            for (staff, offers) in tables.offers {
                for (enquiry, held) in offers where now - held.since <= Self.offerLifetime && including(enquiry) {
                    groups[enquiry, default: []].append(EnquiryNotices.Addressed(staff: staff, notice: .offered(held.note)))
                }
            }
            return groups.sorted { $0.key < $1.key }.map { enquiry, notices in
                OpenOffers(order: tables.noticeSeqs[enquiry].map { NoticeOrder(enquiry: enquiry, seq: $0.seq) }, notices: EnquiryNotices(notices))
            }
        }
    }

    /// Forgets `staff`'s offer of `enquiry` if it is still the one made at `offeredAt` (an
    /// offer made again meanwhile stays).
    public func forget(_ enquiry: EnquiryID, of staff: StaffID, offeredAt: Timestamp) {
        tables.withLock { tables in
            guard tables.offers[staff]?[enquiry]?.note.offeredAt == offeredAt else { return }
            Self.remove(enquiry, of: staff, from: &tables)
        }
    }

    /// The offers `staff` holds, oldest enquiry first.
    public func offers(of staff: StaffID, now: ContinuousClock.Instant = .now) -> [EnquiryOfferNote] {
        tables.withLock { tables in
            (tables.offers[staff] ?? [:]).values.filter { now - $0.since <= Self.offerLifetime }.map(\.note)
        }.sorted { ($0.openedAt, $0.enquiry) < ($1.openedAt, $1.enquiry) }
    }

    private static func remove(_ enquiry: EnquiryID, of staff: StaffID, from tables: inout Tables) {
        guard tables.offers[staff]?.removeValue(forKey: enquiry) != nil else { return }
        tables.offerCount -= 1
        if tables.offers[staff]?.isEmpty == true { tables.offers[staff] = nil }
    }

    /// How often offers are swept for their lifetime (reads skip the stale ones meanwhile):
    /// a sweep walks every offer under the board's lock.
    static let offerSweepInterval: Duration = .seconds(60)

    static func dropStaleOffers(_ tables: inout Tables, now: ContinuousClock.Instant) {
        if let swept = tables.offersSweptAt, now - swept < offerSweepInterval, now >= swept { return }
        tables.offersSweptAt = now
        for (staff, held) in tables.offers {
            for (enquiry, offer) in held where now - offer.since > offerLifetime { remove(enquiry, of: staff, from: &tables) }
        }
        // An enquiry's order is kept while any of its offers is, and `noticeOrderWindow` after.
        let offered = Set(tables.offers.values.flatMap(\.keys))
        tables.noticeSeqs = tables.noticeSeqs.filter { offered.contains($0.key) || now - $0.value.at <= noticeOrderWindow }
    }
}

/// One enquiry's open offers as a board holds them, with the order of the last notice it
/// heard of that enquiry (nil: it heard them unordered, from a node of an earlier version).
struct OpenOffers: Sendable, Equatable {
    let order: NoticeOrder?
    let notices: EnquiryNotices
}

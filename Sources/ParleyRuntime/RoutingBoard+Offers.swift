import ParleyDomain

/// The open offers every node keeps, as soft state, from enquiries' notices (`OfferTable`,
/// under the board's lock): what the Open Enquiry panel lists. A node that starts late, or
/// misses a notice, gets the open offers from each enquiry's leader once it exchanges its full
/// interest with that node (`LiveRelay.sendOpenOffers`); one whose end was missed is dropped by
/// the panel's check against the enquiry, or after `OfferTable.offerLifetime`.
extension RoutingBoard {
    /// Applies one decision's notices (`OfferTable.note`); answers whether they were applied.
    @discardableResult
    public func note(_ notices: EnquiryNotices, order: NoticeOrder? = nil, now: ContinuousClock.Instant = .now) -> Bool {
        tables.withLock { $0.offers.note(notices, order: order, now: now) }
    }

    /// The open offers of the enquiries `including` accepts, grouped with their orders.
    func openOffers(including: (EnquiryID) -> Bool, now: ContinuousClock.Instant = .now) -> [OpenOffers] {
        tables.withLock { $0.offers.openOffers(including: including, now: now) }
    }

    /// Forgets `staff`'s offer of `enquiry` if it is still the one made at `offeredAt`.
    public func forget(_ enquiry: EnquiryID, of staff: StaffID, offeredAt: Timestamp) {
        tables.withLock { $0.offers.forget(enquiry, of: staff, offeredAt: offeredAt) }
    }

    /// The offers `staff` holds, oldest enquiry first.
    public func offers(of staff: StaffID, now: ContinuousClock.Instant = .now) -> [EnquiryOfferNote] {
        tables.withLock { $0.offers.offers(of: staff, now: now) }
    }
}

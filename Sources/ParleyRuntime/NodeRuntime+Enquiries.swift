import ParleyDomain

extension NodeRuntime {
    /// Enquiry reads the Open Enquiry panel makes at once.
    static let concurrentOfferChecks = 16

    /// The offers `staff` holds (the Open Enquiry panel), oldest enquiry first. The routing
    /// board's offers are soft, so each is checked against its enquiry (read at once, up to
    /// `concurrentOfferChecks` at a time); one the enquiry no longer makes to `staff` (its end
    /// missed here) is forgotten. One whose enquiry cannot be read now stays listed.
    public func standingOffers(of staff: StaffID) async -> [EnquiryOfferNote] {
        let held = routingBoard.offers(of: staff)
        let stale = await concurrently(held, atMost: Self.concurrentOfferChecks) { note -> EnquiryOfferNote? in
            guard let enquiry = try? await self.state(of: note.enquiry.rawValue, EnquiryState.self, by: .system) else { return nil }
            return enquiry.offer?.staff.contains(staff) == true ? nil : note
        }.compactMap { $0 }
        for note in stale { routingBoard.forget(note.enquiry, of: staff, offeredAt: note.offeredAt) }
        let gone = Set(stale.map(\.enquiry))
        return held.filter { !gone.contains($0.enquiry) }
    }

    /// Waits, at most `limit`, until `staff` is a member of `room` (an enquiry room they were
    /// just given: the enquiry's decision reaches its room through the outbox, after the
    /// accept's answer could). Lets an accept answer once the owner can write in the room.
    /// Returns whether they are.
    @discardableResult
    public func awaitMembership(of staff: StaffID, in room: RoomID, atMost limit: Duration = .seconds(3)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        var pause = Duration.milliseconds(5)
        while true {
            if let state = try? await self.room(room, reader: staff), state.members[staff] != nil { return true }
            guard ContinuousClock.now + pause < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(200))
        }
    }
}

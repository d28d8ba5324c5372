import ParleyDomain
import Testing

@testable import ParleyRuntime

/// The open offers every node's routing board keeps from enquiries' notices (the Open
/// Enquiry panel): made, ended, taken up, forgotten after their lifetime.
@Suite("Routing board offers")
struct RoutingBoardOfferTests {
    func note(_ enquiry: String, openedAt: Int64) -> EnquiryOfferNote {
        EnquiryOfferNote(
            enquiry: EnquiryID(unchecked: enquiry), sourceName: "Web", visitorName: "Vera", firstMessage: "Hi", destination: nil,
            offeredAt: Timestamp(milliseconds: openedAt), openedAt: Timestamp(milliseconds: openedAt))
    }

    @Test func offersComeAndGoByNotice() throws {
        let board = RoutingBoard()
        let (ann, bob) = (StaffID(unchecked: "ann"), StaffID(unchecked: "bob"))
        let (first, second) = (EnquiryID(unchecked: "e1"), EnquiryID(unchecked: "e2"))
        board.note(EnquiryNotices([.init(staff: ann, notice: .offered(note("e2", openedAt: 20))), .init(staff: bob, notice: .offered(note("e2", openedAt: 20)))]))
        board.note(EnquiryNotices([.init(staff: ann, notice: .offered(note("e1", openedAt: 10)))]))
        #expect(board.offers(of: ann).map(\.enquiry) == [first, second], "oldest enquiry first")
        // Bob takes the second: Ann hears it taken, Bob's own offer leaves with his assignment.
        board.note(EnquiryNotices([.init(staff: ann, notice: .offerEnded(second, .taken)), .init(staff: bob, notice: .assigned(second))]))
        #expect(board.offers(of: ann).map(\.enquiry) == [first] && board.offers(of: bob).isEmpty)
        // An offer whose end was never heard is forgotten after the offer lifetime.
        let later = ContinuousClock.now + OfferTable.offerLifetime + .seconds(1)
        #expect(board.offers(of: ann, now: later).isEmpty)
        board.prune(keepingAccounts: { _ in true }, now: later)
        #expect(board.offers(of: ann).isEmpty)
        // A repeated offer is held once.
        board.note(EnquiryNotices([.init(staff: ann, notice: .offered(note("e1", openedAt: 10)))]))
        board.note(EnquiryNotices([.init(staff: ann, notice: .offered(note("e1", openedAt: 10)))]))
        #expect(board.offers(of: ann).count == 1)
        // The panel forgets a stale offer only if it was not made again meanwhile.
        board.forget(first, of: ann, offeredAt: Timestamp(milliseconds: 9))
        #expect(board.offers(of: ann).count == 1)
        board.forget(first, of: ann, offeredAt: Timestamp(milliseconds: 10))
        #expect(board.offers(of: ann).isEmpty)
        #expect(try EnquiryNotices.decode(EnquiryNotices([.init(staff: ann, notice: .offerEnded(first, .lapsed))]).encoded).notices.count == 1)
    }

    @Test func theOpenOffersALeaderSendsAreItsOwnEnquiriesInOrderAndCrossTheRelayIntact() throws {
        let board = RoutingBoard()
        let (ann, bob) = (StaffID(unchecked: "ann"), StaffID(unchecked: "bob"))
        let mine = EnquiryID(unchecked: "mine")
        board.note(
            EnquiryNotices([.init(staff: ann, notice: .offered(note("mine", openedAt: 10))), .init(staff: bob, notice: .offered(note("mine", openedAt: 10)))]),
            order: NoticeOrder(enquiry: mine, seq: 7))
        board.note(EnquiryNotices([.init(staff: ann, notice: .offered(note("theirs", openedAt: 20)))]))
        let open = board.openOffers { $0 == mine }
        #expect(open.count == 1 && open.first?.order == NoticeOrder(enquiry: mine, seq: 7))
        #expect(Set(open.first?.notices.notices.map(\.staff) ?? []) == [ann, bob])
        // Lapsed offers are not sent on.
        #expect(board.openOffers(including: { _ in true }, now: .now + OfferTable.offerLifetime + .seconds(1)).isEmpty)
        let frame = LiveRelayCodec.frame([LiveRelayCodec.encode(.openOffers(open))])
        guard case let .openOffers(decoded)? = try LiveRelayCodec.decodeDeliveries(frame).first else {
            Issue.record("not decoded as open offers")
            return
        }
        #expect(decoded == open)
        // A peer that heard the offer end (a newer notice) keeps its end; one that heard
        // nothing takes the copy.
        let ended = RoutingBoard()
        ended.note(EnquiryNotices([.init(staff: ann, notice: .offerEnded(mine, .taken))]), order: NoticeOrder(enquiry: mine, seq: 9))
        let fresh = RoutingBoard()
        for peer in [ended, fresh] {
            for group in decoded { peer.note(group.notices, order: group.order) }
        }
        #expect(ended.offers(of: ann).isEmpty && ended.offers(of: bob).isEmpty)
        #expect(fresh.offers(of: ann).map(\.enquiry) == [mine] && fresh.offers(of: bob).map(\.enquiry) == [mine])
    }

    @Test func aNoticeDeliveredAgainAfterANewerOneChangesNothingAndReachesNoSession() async throws {
        let board = RoutingBoard()
        let hub = LiveHub()
        let ann = StaffID(unchecked: "ann")
        let session = hub.subscribe(staff: ann)
        let enquiry = EnquiryID(unchecked: "e1")
        let offered = EnquiryNotices([.init(staff: ann, notice: .offered(note("e1", openedAt: 10)))])
        let ended = EnquiryNotices([.init(staff: ann, notice: .offerEnded(enquiry, .taken))])
        EnquiryNoticeDelivery.receive(offered, order: NoticeOrder(enquiry: enquiry, seq: 5), board: board, sessions: hub)
        EnquiryNoticeDelivery.receive(ended, order: NoticeOrder(enquiry: enquiry, seq: 9), board: board, sessions: hub)
        // After a failover the offer's delivery comes again, after its end.
        EnquiryNoticeDelivery.receive(offered, order: NoticeOrder(enquiry: enquiry, seq: 5), board: board, sessions: hub)
        #expect(board.offers(of: ann).isEmpty, "the old offer came back")
        let heard = await collect(session, timeout: .seconds(2)) { $0.notices.count >= 2 }.notices
        #expect(heard == [.offered(note("e1", openedAt: 10)), .offerEnded(enquiry, .taken)])
        #expect(await collect(session, timeout: .milliseconds(300)) { !$0.notices.isEmpty }.notices.isEmpty, "the old offer reached the session")
        // The end delivered twice is applied once; a newer offer (a re-offer) is applied.
        #expect(!board.note(ended, order: NoticeOrder(enquiry: enquiry, seq: 9)))
        #expect(board.note(offered, order: NoticeOrder(enquiry: enquiry, seq: 12)))
        #expect(board.offers(of: ann).map(\.enquiry) == [enquiry])
        // Unordered notices (an older node's) are always applied.
        #expect(board.note(ended, order: nil) && board.offers(of: ann).isEmpty)
        let frame = LiveRelayCodec.frame([LiveRelayCodec.encode(.offers(ended, order: NoticeOrder(enquiry: enquiry, seq: 9)))])
        guard case let .offers(decoded, order)? = try LiveRelayCodec.decodeDeliveries(frame).first else {
            Issue.record("not decoded as offers")
            return
        }
        #expect(decoded == ended && order == NoticeOrder(enquiry: enquiry, seq: 9))
    }
}

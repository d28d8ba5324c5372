import ParleyDomain

/// The `EnquiryState.noticeSink` sink: one enquiry decision's offer notices, on the node
/// leading the enquiry. In a cluster the live relay takes them to every node (each keeps the
/// offers on its routing board and tells its sessions); on a single node they stay here.
struct EnquiryNoticeDelivery: DeliverySink {
    let board: RoutingBoard
    let sessions: LiveHub?
    let relay: LiveRelay?

    func deliver(_ delivery: OutboundDelivery) async throws(RuntimeError) {
        let notices: EnquiryNotices
        do {
            notices = try EnquiryNotices.decode(delivery.payload)
        } catch {
            throw .rejected(DomainError(.invalidArgument, "unreadable enquiry notices from \(delivery.source): \(error.message)"))
        }
        let order = NoticeOrder(enquiry: EnquiryID(unchecked: delivery.source.key), seq: delivery.seq)
        if let relay {
            relay.broadcast(notices, order: order)
        } else {
            Self.receive(notices, order: order, board: board, sessions: sessions)
        }
    }

    /// This node's part: the board keeps the offers, the staff members' sessions here hear
    /// of offers made and ended (an assignment reaches them from their own entity). Notices
    /// older than what the board already heard of their enquiry (a delivery made again after
    /// a failover) change nothing and reach no session.
    /// Answers whether they were applied.
    @discardableResult
    static func receive(_ notices: EnquiryNotices, order: NoticeOrder?, board: RoutingBoard, sessions: LiveHub?) -> Bool {
        guard board.note(notices, order: order) else { return false }
        guard let sessions else { return true }
        for update in notices.sessionUpdates { sessions.deliver(EnquiryUpdate(staff: update.staff, notices: update.notices)) }
        return true
    }
}

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
        if let relay {
            relay.broadcast(notices)
        } else {
            Self.receive(notices, board: board, sessions: sessions)
        }
    }

    /// This node's part: the board keeps the offers, the staff members' sessions here hear
    /// of offers made and ended (an assignment reaches them from their own entity).
    static func receive(_ notices: EnquiryNotices, board: RoutingBoard, sessions: LiveHub?) {
        board.note(notices)
        guard let sessions else { return }
        var updates: [StaffID: [EnquiryNotice]] = [:]
        var order: [StaffID] = []
        for addressed in notices.notices {
            switch addressed.notice {
            case .offered, .offerEnded:
                if updates[addressed.staff] == nil { order.append(addressed.staff) }
                updates[addressed.staff, default: []].append(addressed.notice)
            case .assigned, .released:
                continue
            }
        }
        for staff in order { sessions.deliver(EnquiryUpdate(staff: staff, notices: updates[staff] ?? [])) }
    }
}

import ParleyRaft

/// The simulated network: per-message loss, duplication and random delay (hence
/// reordering), and partitions into groups.
struct SimNetwork {
    var lossRate: Double
    var duplicateRate: Double
    var maxDelay: Int
    /// Messages in flight by delivery step.
    var inFlight: [Int: [Message]] = [:]
    /// Partition group of each node; nodes in different groups cannot talk.
    var groups: [NodeID: Int] = [:]
    var partitionUntil: Int?
    /// A one-way partition: group 1 cannot reach group 0, but group 0 reaches group 1.
    var oneWay = false
    var sent = 0
    var lost = 0

    init(lossRate: Double, duplicateRate: Double, maxDelay: Int) {
        self.lossRate = lossRate
        self.duplicateRate = duplicateRate
        self.maxDelay = maxDelay
    }

    /// Whether a message from `a` reaches `b`.
    func connected(_ a: NodeID, _ b: NodeID) -> Bool {
        let (ga, gb) = (groups[a] ?? 0, groups[b] ?? 0)
        return ga == gb || (oneWay && ga == 0)
    }

    mutating func heal() {
        groups = [:]
        partitionUntil = nil
        oneWay = false
    }
}

extension RaftSimulation {
    /// Hands a message to the network (after the sender persisted its Ready).
    mutating func send(_ m: Message) {
        network.sent += 1
        if chance(network.lossRate) {
            network.lost += 1
            return
        }
        let copies = chance(network.duplicateRate) ? 2 : 1
        for _ in 0..<copies {
            let at = now + 1 + Int(rng.next(below: UInt64(network.maxDelay)))
            network.inFlight[at, default: []].append(m)
        }
    }

    /// Delivers the messages due now, in a random order, to live, connected nodes.
    mutating func deliverMessages() {
        guard var due = network.inFlight.removeValue(forKey: now) else { return }
        if due.count > 1 {
            for i in stride(from: due.count - 1, to: 0, by: -1) {
                due.swapAt(i, Int(rng.next(below: UInt64(i + 1))))
            }
        }
        for m in due {
            guard network.connected(m.from, m.to) else { continue }
            let i = Int(m.to - 1)
            guard nodes.indices.contains(i), nodes[i].raft != nil else { continue }
            if traceLog != nil && m.kind != .heartbeat && m.kind != .heartbeatResponse { trace(describe(m)) }
            nodes[i].raft!.step(m)
        }
    }
}

extension RaftSimulation {
    func describe(_ m: Message) -> String {
        var text = "  \(m.from)→\(m.to) \(m.kind.rawValue) t\(m.term)"
        switch m.kind {
        case .append:
            text += " prev \(m.index)/\(m.logTerm) entries \(m.entries.map { "\($0.index)/\($0.term)" }) commit \(m.commit)"
        case .appendResponse:
            text += m.reject ? " reject \(m.index) hint \(m.rejectHint)/\(m.logTerm)" : " ack \(m.index)"
        case .vote, .preVote:
            text += " last \(m.index)/\(m.logTerm)\(m.campaignTransfer ? " transfer" : "")"
        case .voteResponse, .preVoteResponse:
            text += m.reject ? " rejected" : " granted"
        case .snapshot:
            text += " at \(m.snapshot?.metadata.index ?? 0)/\(m.snapshot?.metadata.term ?? 0)"
        case .readIndexResponse:
            text += " index \(m.index)"
        default:
            break
        }
        return text
    }
}

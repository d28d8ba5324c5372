/// Linearizable reads by ReadIndex (etcd's ReadOnlySafe).
extension RaftNode {
    /// Requests a read index for `context` (opaque, unique among outstanding requests). The
    /// answer arrives as a `ReadState` in a later `Ready`: once the state machine applied its
    /// index, a read observes every write committed before this call. A follower forwards
    /// the request to its leader. Requests are dropped (never answered) if leadership changes
    /// before they are confirmed; the shell times them out and retries.
    public mutating func readIndex(context: [UInt8]) throws(RaftError) {
        wake()
        switch role {
        case .leader:
            handleReadIndexRequest(Message(kind: .readIndex, from: id, to: id, term: term, context: context))
        case .follower where leader != 0:
            send(Message(kind: .readIndex, to: leader, context: context))
        default:
            throw .notLeader(leaderHint: leader)
        }
    }

    mutating func handleReadIndexRequest(_ m: Message) {
        if voters.count == 1 {
            answerRead(index: log.committed, to: m.from, context: m.context)
            return
        }
        // A new leader does not know the commit index until it committed an entry of its term.
        guard log.term(at: log.committed) == term else {
            pendingReadIndexMessages.append(m)
            return
        }
        readOnly.add(index: log.committed, from: m.from, context: m.context)
        acknowledgeRead(from: id, context: m.context)
        broadcastHeartbeat(context: m.context)
    }

    mutating func acknowledgeRead(from node: NodeID, context: [UInt8]) {
        guard voters.contains(node) else { return }
        let acks = readOnly.ack(from: node, context: context)
        guard acks.count >= quorum else { return }
        for status in readOnly.release(through: context) {
            answerRead(index: status.index, to: status.from, context: status.context)
        }
    }

    private mutating func answerRead(index: UInt64, to node: NodeID, context: [UInt8]) {
        if node == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            send(Message(kind: .readIndexResponse, to: node, index: index, context: context))
        }
    }
}

/// Leadership transfer.
extension RaftNode {
    /// Leader: hands leadership to `target`. Proposals are refused meanwhile; the target is
    /// caught up and then told to campaign at once (`timeoutNow`). The transfer is abandoned
    /// if it has not happened within an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard voters.contains(target) else { throw .unknownNode(target) }
        if target == id || target == leadTransferee { return }
        wake()
        electionElapsed = 0
        leadTransferee = target
        if progress[target]?.match == log.lastIndex {
            send(Message(kind: .timeoutNow, to: target))
        } else {
            sendAppend(to: target)
        }
    }

    /// Leader: gives up a transfer in progress.
    public mutating func abortLeadershipTransfer() {
        leadTransferee = 0
    }
}

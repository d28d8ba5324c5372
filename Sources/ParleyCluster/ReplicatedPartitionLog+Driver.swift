import Foundation
import ParleyRaft
import ParleyStorage

extension ReplicatedPartitionLog {
    /// The driver thread: rounds until the log closes, then the state flushed and every
    /// waiting proposer answered.
    func driveUntilClosed() {
        Database.disablePerformanceCountersOnThisThread()
        let groups = recoveredGroups.withLock { recovered in
            defer { recovered = nil }
            return recovered ?? [:]
        }
        var candidates = ReadyCandidates()
        for (partition, group) in groups {
            // A fresh cluster's preferred leaders stand at once rather than after a timeout.
            if group.node.term == 0, replicas[Int(partition.rawValue)].first == ownID { group.node.campaign() }
            publishLeadership(group)
            candidates.add(group)
        }
        let interval = configuration.tickInterval
        var nextTick = ContinuousClock.now + interval
        var ticks = 0
        var failed = false
        var handOffDeadline: ContinuousClock.Instant?
        while !failed {
            // Groups with more to apply (a backlog applied in parts) go on at once.
            let inputs = takeInputs(until: candidates.isEmpty ? nextTick : .now, draining: handOffDeadline != nil)
            if inputs.closed {
                inputs.failWaiting(ClusterError(.shuttingDown, "the node is shutting down"))
                // A stopping node first hands the partitions it leads to caught-up replicas,
                // so their clients see a transfer rather than an election timeout.
                if handOffDeadline == nil {
                    handOffDeadline = ContinuousClock.now + interval * (2 * configuration.electionTicks)
                    handOffLeaderships(groups)
                    for group in groups.values { candidates.add(group) }
                }
                let stillLeading = groups.values.contains { $0.node.role == .leader }
                if !stillLeading || ContinuousClock.now >= handOffDeadline! { break }
            }
            for (partition, message) in inputs.messages {
                guard let group = groups[partition] else { continue }
                group.node.step(message)
                candidates.add(group)
            }
            for node in inputs.gone {
                for group in leaderGone(node, in: groups) { candidates.add(group) }
            }
            if !inputs.flushedForCompaction.isEmpty { compact(inputs.flushedForCompaction, groups) }
            for (partition, follower, sent) in inputs.snapshotReports {
                guard let group = groups[partition] else { continue }
                group.node.reportSnapshot(to: follower, succeeded: sent)
                candidates.add(group)
            }
            let now = ContinuousClock.now
            if now >= nextTick {
                let electionTicks = configuration.electionTicks
                var expired: [AppendTicket] = []
                var unconfirmed: [AppendTicket] = []
                // Peers the failure detector finds down now: their quiet groups wake on every
                // tick they stay down (a hint missed, or a peer down before its groups went
                // quiet, cannot leave a group asleep).
                let down = Set(ids.allNodes.filter { $0 != ownID && !transport.isUp($0) }.map { ids.raftID(of: $0) })
                for (partition, group) in groups {
                    if group.isQuiescent {
                        expired += tickQuiet(group, partition: partition, down: down)
                        if !group.isQuiescent { candidates.add(group) }
                        continue
                    }
                    group.quietTicks = 0
                    let preferred = replicas[Int(partition.rawValue)].first.map { ids.raftID(of: $0) } ?? 0
                    let voters = replicas[Int(partition.rawValue)]
                    expired += group.tick(
                        preferred: preferred, electionTicks: electionTicks,
                        cutOff: !ReplicaReach.isMajority(voters.count { $0 == self.ownID || !down.contains(self.ids.raftID(of: $0)) }, of: voters.count))
                    unconfirmed += group.reads.tick(limit: electionTicks)
                    candidates.add(group)
                }
                let unknown = ClusterError(.stale, "this node lost its leadership and did not learn whether the entry committed")
                for ticket in expired { ticket.complete(.failure(unknown)) }
                let unheard = ClusterError(.notLeader, "no quorum confirmed this node's leadership within an election timeout")
                for ticket in unconfirmed { ticket.complete(.failure(unheard)) }
                ticks += 1
                if ticks % configuration.compactionCheckTicks == 0 { compactIfDue(groups) }
                nextTick = max(nextTick + interval, now)
            }
            for proposal in inputs.proposals {
                if let group = propose(proposal, in: groups) { candidates.add(group) }
            }
            for group in requestReads(inputs.reads, in: groups) { candidates.add(group) }
            // A round's advance can leave more to do (answers queued while applying, a backlog
            // applied in parts): the groups that had a Ready are checked again, for up to a
            // tick, and then after the next inputs (messages, votes) are taken.
            let roundsStarted = ContinuousClock.now
            for _ in 0..<8 {
                let outcome = processReadies(of: candidates.take())
                if case let .processed(processed) = outcome {
                    for group in processed { candidates.add(group) }
                    if ContinuousClock.now - roundsStarted >= interval { break }
                    continue
                }
                if case .failed = outcome { failed = true }
                break
            }
            // Between rounds: the state written is exactly that of each group's applied index
            // (partitions this node does not replicate have none).
            for request in inputs.views { request.serve(database: database) { groups[$0]?.node.appliedIndex } }
        }
        finish(groups)
    }

    /// Waits until something arrived, the log closed (unless already `draining`) or
    /// `deadline` passed; takes the inputs.
    private func takeInputs(until deadline: ContinuousClock.Instant, draining: Bool) -> Inbox {
        for attempt in 0..<2 {
            let taken: Inbox? = inbox.withLock { inbox in
                if inbox.hasWork || (inbox.closed && !draining) || attempt == 1 {
                    defer {
                        let closed = inbox.closed
                        inbox = Inbox()
                        inbox.closed = closed
                    }
                    return inbox
                }
                inbox.driverSleeping = true
                return nil
            }
            if let taken { return taken }
            let wait = deadline - ContinuousClock.now
            if wait > .zero {
                let nanoseconds = wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000
                _ = wakeDriver.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
            }
        }
        return Inbox()
    }

    /// Each partition's reads of this round become one ReadIndex request, answered once a
    /// quorum confirmed this node's leadership (or refused here at once when it does not serve).
    private func requestReads(_ reads: [(PartitionID, AppendTicket)], in groups: [PartitionID: RaftGroup]) -> [RaftGroup] {
        guard !reads.isEmpty else { return [] }
        var requested: [RaftGroup] = []
        var byPartition: [PartitionID: [AppendTicket]] = [:]
        for (partition, ticket) in reads { byPartition[partition, default: []].append(ticket) }
        for (partition, tickets) in byPartition {
            guard let group = groups[partition], group.servingHere else {
                let error = notLeader(partition, leadership(of: partition))
                for ticket in tickets { ticket.complete(.failure(error)) }
                continue
            }
            let context = group.reads.request(tickets)
            do throws(RaftError) {
                try group.node.readIndex(context: context)
                requested.append(group)
            } catch {
                let refused = ClusterError(.notLeader, "partition \(partition) refused the read: \(error.code)")
                for ticket in group.reads.withdraw(context) { ticket.complete(.failure(refused)) }
            }
        }
        return requested
    }

    /// Serves the confirmed reads whose index `group` has applied.
    private func serveReads(of group: RaftGroup) {
        for read in group.reads.takeServable(applied: group.inspect { $0.appliedIndex }) {
            let position = LogPosition(partition: group.partition, index: read.index, generation: read.term)
            for ticket in read.tickets { ticket.complete(.success(position)) }
        }
    }

    /// Proposes to the partition's group; returns the group unless it has no replica here.
    private func propose(_ proposal: Proposal, in groups: [PartitionID: RaftGroup]) -> RaftGroup? {
        guard let group = groups[proposal.partition] else {
            proposal.ticket.complete(.failure(notLeader(proposal.partition, leadership(of: proposal.partition))))
            return nil
        }
        propose(proposal, to: group)
        return group
    }

    private func propose(_ proposal: Proposal, to group: RaftGroup) {
        guard group.servingHere, group.node.term == proposal.generation else {
            let error =
                group.servingHere
                ? ClusterError(.stale, "partition \(proposal.partition) is at term \(group.node.term), not \(proposal.generation)")
                : notLeader(proposal.partition, leadership(of: proposal.partition))
            proposal.ticket.complete(.failure(error))
            return
        }
        do throws(RaftError) {
            let (index, term) = try group.node.propose(proposal.payload)
            group.pending[index] = (term, proposal.ticket)
        } catch {
            proposal.ticket.complete(.failure(ClusterError(.notLeader, "partition \(proposal.partition) refused the entry: \(error.code)")))
        }
    }

    /// What one round of Readies did.
    private enum RoundOutcome {
        /// No group had a Ready.
        case idle
        /// These groups had one (and may have another after it).
        case processed([RaftGroup])
        /// The disk failed: the driver must stop.
        case failed
    }

    /// A round longer than this is logged.
    static let slowRound: Duration = .milliseconds(500)
    /// Committed entries applied in one round, about (the last group taken may pass it by up
    /// to `committedEntriesPerReady`).
    static let committedEntriesPerRound = 256

    /// One Ready round of every candidate that has one: persist (one fsync for all), send,
    /// apply, settle, advance. Only `candidates` are checked: a group nothing happened to
    /// since its last check has no Ready, and a node leads a few busy partitions among many.
    private func processReadies(of candidates: [RaftGroup]) -> RoundOutcome {
        // Within `committedEntriesPerRound`: the groups past it wait for the next round, so a
        // node applying a backlog still takes its inputs (votes, hints) every few rounds.
        var readies: [(group: RaftGroup, ready: Ready)] = []
        var deferred: [RaftGroup] = []
        var committed = 0
        for group in candidates {
            guard committed < Self.committedEntriesPerRound else {
                deferred.append(group)
                continue
            }
            guard let ready = group.takeReady() else { continue }
            committed += ready.committedEntries.count
            readies.append((group, ready))
        }
        guard !readies.isEmpty else { return .idle }
        let started = ContinuousClock.now

        let plan = ReadyRoundPlan(
            readies.map { group, ready in
                ReadyRoundPlan.Input(
                    leads: group.inspect { $0.role == .leader }, ready: ready, persistedLastIndex: group.persistedLastIndex,
                    persistedHardState: group.persistedHardState)
            })
        let rounds = zip(readies, plan.parts)
        send(rounds.filter { $0.1.sendsBeforeWrite }.map(\.0))

        var raftWrites = WriteBatch()
        for ((group, ready), part) in rounds {
            let partition = group.partition
            if part.installsSnapshot, let snapshot = ready.snapshot {
                guard install(snapshot, of: partition, group: group, into: &raftWrites) else {
                    logger.critical("this node stops replicating until it restarts and catches up again", metadata: ["partition": "\(partition)"])
                    return .failed
                }
            }
            for entry in part.entries {
                raftWrites.put(ReplicaLayout.entryKey(partition, entry.index), ReplicaLayout.encodeEntry(entry), in: raftFamily)
            }
            if let stale = part.staleTail {
                raftWrites.deleteRange(
                    from: ReplicaLayout.entryKey(partition, stale.lowerBound), to: ReplicaLayout.entryKey(partition, stale.upperBound + 1), in: raftFamily)
            }
            if let hardState = part.hardState {
                raftWrites.put(ReplicaLayout.hardStateKey(partition), ReplicaLayout.encodeHardState(hardState), in: raftFamily)
            }
            group.persistedLastIndex = part.persistedLastIndex
            group.persistedHardState = part.persistedHardState
        }
        if let durability = plan.durability {
            do throws(StorageError) {
                try database.write(raftWrites, durability: durability == .fsync ? .fsync : .buffered)
            } catch {
                logger.critical("Raft state could not be made durable; this node stops replicating until it restarts", metadata: ["error": "\(error)"])
                metrics.failures.increment()
                return .failed
            }
            if durability == .fsync { metrics.batches.increment() }
        }
        send(rounds.filter { !$0.1.sendsBeforeWrite }.map(\.0))
        let persisted = ContinuousClock.now

        var settled: [(AppendTicket, AppendTicket.Outcome)] = []
        let applied = apply(readies, settling: &settled)
        let finished = ContinuousClock.now
        if finished - started > Self.slowRound {
            // Every group of this node waits for the round (its elections, its hints): a slow
            // disk shows here first.
            logger.warning(
                "slow Raft round",
                metadata: [
                    "groups": "\(readies.count)", "persist": "\(persisted - started)",
                    "apply": "\(finished - persisted)",
                ])
        }
        guard applied else {
            for (ticket, _) in settled { ticket.complete(.failure(ClusterError(.storageFailure, "state could not be applied; the node must restart"))) }
            return .failed
        }
        for (ticket, outcome) in settled { ticket.complete(outcome) }

        for (group, ready) in readies {
            group.node.advance(ready)
            if let soft = ready.softState {
                if soft.role == .preCandidate || soft.role == .candidate {
                    // Elections are rare; what their logs held is what decides who may win.
                    logger.info(
                        "partition election",
                        metadata: [
                            "partition": "\(group.partition.rawValue)", "role": "\(soft.role.rawValue)", "term": "\(group.node.term)",
                            "last_index": "\(group.node.lastIndex)", "last_term": "\(group.node.lastTerm)",
                        ])
                }
                if soft.role == .leader {
                    if group.leaderStartIndex == nil { group.leaderStartIndex = group.inspect { $0.lastIndex } }
                } else {
                    // Waiting proposals stay: applying their indexes tells whether they
                    // committed (same term) or were replaced; `RaftGroup.tick` gives up on them.
                    group.leaderStartIndex = nil
                    let deposed = ClusterError(.notLeader, "this node stopped leading partition \(group.partition) before confirming the read")
                    for ticket in group.reads.takeAll() { ticket.complete(.failure(deposed)) }
                }
            }
            if !ready.readStates.isEmpty { group.reads.confirm(ready.readStates, term: group.node.term) }
            if !group.reads.isEmpty { serveReads(of: group) }
            publishLeadership(group)
        }
        // The deferred go first next round: no group waits behind others' backlogs for long.
        return .processed(deferred + readies.map(\.group))
    }

    /// Posts the Readies' messages to their peers, all of a peer's in one batch (the transport carries
    /// them in order, on the pair's one stream); a snapshot message starts a transfer of its
    /// own instead (streamed in chunks).
    private func send(_ readies: [(group: RaftGroup, ready: Ready)]) {
        var byPeer: [NodeID: [(group: UInt32, message: Message)]] = [:]
        for (group, ready) in readies {
            for message in ready.messages {
                guard let peer = ids.node(of: message.to) else { continue }
                if message.kind == .snapshot {
                    if !startSnapshotTransfer(message, of: group.partition, group: group) {
                        group.node.reportSnapshot(to: message.to, succeeded: false)
                    }
                    continue
                }
                byPeer[peer, default: []].append((UInt32(group.partition.rawValue), message))
            }
        }
        for (peer, batch) in byPeer { transport.post(.raft, RaftCodec.encode(batch), to: peer) }
    }

    /// Applies the committed entries of `readies` in one unlogged write (the log can rebuild
    /// it), with applied indexes every `appliedIndexInterval` entries. False on a disk error.
    private func apply(
        _ readies: [(group: RaftGroup, ready: Ready)], settling settled: inout [(AppendTicket, AppendTicket.Outcome)]
    ) -> Bool {
        var writes = StateWrites(family: families.state)
        // A room entry's events are stored twice (journal and message record) with their keys:
        // room for that up front, rather than growing the batch one doubling at a time.
        let payloadBytes = readies.reduce(0) { total, item in item.ready.committedEntries.reduce(total) { $0 + $1.data.count } }
        writes.reserveCapacity(bytes: payloadBytes * 2 + 128 * readies.count)
        var count = 0
        for (group, ready) in readies where !ready.committedEntries.isEmpty {
            let partition = group.partition
            for entry in ready.committedEntries {
                var outcome: AppendTicket.Outcome = .success(LogPosition(partition: partition, index: entry.index, generation: entry.term))
                if !entry.data.isEmpty {
                    let mark = writes.mark
                    do {
                        try stateMachine.apply(LogEntry(partition: partition, index: entry.index, generation: entry.term, payload: entry.data), to: &writes)
                        count += 1
                    } catch {
                        // Every replica refuses it the same way: it changes nothing anywhere.
                        writes.rollback(to: mark)
                        outcome = .failure(ClusterError(.rejected, "\(error)"))
                    }
                }
                if let waiting = group.pending.removeValue(forKey: entry.index) {
                    settled.append(
                        (waiting.ticket,
                         waiting.term == entry.term
                            ? outcome : .failure(ClusterError(.stale, "entry \(entry.index) of \(partition) was replaced by a newer leader's"))))
                }
            }
            let applied = ready.committedEntries.last!.index
            if applied >= group.appliedWritten + configuration.appliedIndexInterval {
                writes.put(LogLayout.appliedKey(partition), LogLayout.encodeIndex(applied))
                group.appliedWritten = applied
            }
        }
        guard !writes.batch.isEmpty else { return true }
        do throws(StorageError) {
            try database.write(writes.batch, durability: .unlogged)
        } catch {
            logger.critical("committed entries could not be applied; this node stops until it restarts", metadata: ["error": "\(error)"])
            metrics.failures.increment()
            return false
        }
        metrics.appends.increment(by: Int64(count))
        return true
    }

    /// Hands every partition this node leads to its most caught-up other replica; until the
    /// transfer lands the partition takes no entries here (callers go to the replicas).
    private func handOffLeaderships(_ groups: [PartitionID: RaftGroup]) {
        for partition in groups.keys where groups[partition]!.node.role == .leader {
            let node = groups[partition]!.node
            let target = node.voters.filter { $0 != node.id }.max { (node.replication(of: $0)?.match ?? 0) < (node.replication(of: $1)?.match ?? 0) }
            guard let target else { continue }
            try? groups[partition]!.node.transferLeadership(to: target)
            groups[partition]!.leaderStartIndex = nil
            publishLeadership(groups[partition]!)
        }
        logger.info("handing leaderships to other replicas before stopping")
    }

    func publishLeadership(_ group: RaftGroup) {
        let view = Leadership(term: group.node.term, leader: ids.node(of: group.node.leader), servingHere: group.servingHere)
        updateLeadership(of: group.partition) { $0 = view }
    }

    /// At the end: the applied indexes written and the state flushed (a restart replays
    /// nothing), and every proposer still waiting told the node stopped.
    private func finish(_ groups: [PartitionID: RaftGroup]) {
        do throws(StorageError) {
            try flushState(groups)
        } catch {
            logger.error("could not flush state at shutdown; the next start replays the log", metadata: ["error": "\(error)"])
        }
        let error = ClusterError(.shuttingDown, "the node stopped before the entry committed")
        for partition in groups.keys {
            for ticket in groups[partition]!.takePending() + groups[partition]!.reads.takeAll() { ticket.complete(.failure(error)) }
            groups[partition]!.leaderStartIndex = nil
            publishLeadership(groups[partition]!)
        }
        let leftover = inbox.withLock { inbox in
            defer {
                inbox.proposals = []
                inbox.reads = []
            }
            return inbox
        }
        leftover.failWaiting(error)
    }
}

import ParleyRaft
import ParleyStorage
import Synchronization

/// A snapshot on its way to a follower: the partition's state as of the message's snapshot
/// index, read chunk by chunk through `state`, a view of the database held since then.
struct SnapshotTransfer: Sendable {
    let peer: NodeID
    let partition: PartitionID
    let message: Message
    let state: HeldSnapshot
}

/// The transfers the driver started and the streaming loop has not taken yet, with how many
/// are under way (at most `limit`).
final class SnapshotTransferQueue: Sendable {
    private struct Queue {
        var pending: [SnapshotTransfer] = []
        var underWay = 0
        var closed = false
    }

    let limit: Int
    private let queue = Mutex(Queue())
    let signals: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(limit: Int) {
        self.limit = limit
        (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `transfer`; false (nothing queued) when `limit` transfers are under way or the
    /// queue closed.
    func start(_ transfer: SnapshotTransfer) -> Bool {
        let started = queue.withLock { queue in
            guard !queue.closed, queue.underWay < limit else { return false }
            queue.pending.append(transfer)
            queue.underWay += 1
            return true
        }
        if started { continuation.yield() }
        return started
    }

    func takeAll() -> [SnapshotTransfer] {
        queue.withLock { queue in
            defer { queue.pending = [] }
            return queue.pending
        }
    }

    /// One transfer ended (either way).
    func ended() { queue.withLock { $0.underWay -= 1 } }

    /// No more transfers start; the streaming loop ends once those under way did.
    func close() {
        let left = queue.withLock { queue in
            queue.closed = true
            defer { queue.pending = [] }
            return queue.pending
        }
        for transfer in left { transfer.state.release() }
        continuation.finish()
    }
}

/// Snapshots streamed in chunks (peer message kind `raftSnapshot`): the leader reads the
/// partition's state through a database snapshot taken when Raft asked for the snapshot, and
/// sends it `snapshotChunkBytes` at a time, each chunk answered before the next goes, on its
/// own task, so heartbeats and appends to the same peer never wait behind it. The follower
/// assembles the chunks (`SnapshotAssembler`) and steps the snapshot once the last arrived.
extension ReplicatedPartitionLog {
    /// Leader, on the driver thread: starts streaming the partition's state as applied now
    /// (at least as recent as the compaction point Raft decided on) to `message.to`. False
    /// when it cannot start; the caller reports the snapshot as failed and Raft retries later.
    func startSnapshotTransfer(_ message: Message, of partition: PartitionID, group: RaftGroup) -> Bool {
        guard let peer = ids.node(of: message.to), let voters = message.snapshot?.metadata.voters,
            let term = group.node.term(at: group.node.appliedIndex)
        else { return false }
        let state: HeldSnapshot
        do {
            // The driver applies every committed entry itself, so the state now is exactly
            // the state at `appliedIndex`.
            state = try database.holdSnapshot()
        } catch {
            logger.warning("no database snapshot for a Raft snapshot", metadata: ["partition": "\(partition)", "error": "\(error)"])
            return false
        }
        var outgoing = message
        outgoing.snapshot = ParleyRaft.Snapshot(metadata: SnapshotMetadata(index: group.node.appliedIndex, term: term, voters: voters), data: [])
        guard snapshotTransfers.start(SnapshotTransfer(peer: peer, partition: partition, message: outgoing, state: state)) else {
            state.release()
            return false
        }
        return true
    }

    /// Streams each transfer the driver starts, several at once, until the log closes.
    func snapshotStreamingLoop() async {
        await withDiscardingTaskGroup { group in
            for await _ in snapshotTransfers.signals {
                for transfer in snapshotTransfers.takeAll() {
                    group.addTask {
                        let sent = await self.stream(transfer)
                        transfer.state.release()
                        self.snapshotTransfers.ended()
                        self.report(transfer, sent: sent)
                    }
                }
            }
        }
    }

    /// Sends `transfer` chunk by chunk; true once the follower took the last one.
    private func stream(_ transfer: SnapshotTransfer) async -> Bool {
        let id = UInt64.random(in: 1...UInt64.max)
        let upper = KeyRange.successor(ofPrefix: transfer.partition.keyPrefix)
        var lower = transfer.partition.keyPrefix
        var sequence: UInt32 = 0
        while !inbox.withLock({ $0.closed }) {
            var pairs: [(key: [UInt8], value: [UInt8])] = []
            var bytes = 0
            var more = false
            do throws(StorageError) {
                try database.scan(KeyRange(lower: lower, upper: upper), in: families.state, snapshot: transfer.state.view) { key, value in
                    if !pairs.isEmpty, bytes + key.count + value.count > configuration.snapshotChunkBytes {
                        more = true
                        return false
                    }
                    pairs.append((key, value))
                    bytes += key.count + value.count
                    return true
                }
            } catch {
                logger.warning("state could not be read for a snapshot", metadata: ["partition": "\(transfer.partition)", "error": "\(error)"])
                return false
            }
            if more { lower = pairs.last!.key + [0] }
            let chunk = SnapshotChunk(partition: transfer.partition, transfer: id, sequence: sequence, pairs: pairs, message: more ? nil : transfer.message)
            do {
                let answer = try await transport.exchange(.raftSnapshot, chunk.encoded(), with: transfer.peer, timeout: configuration.snapshotChunkTimeout)
                guard answer == [SnapshotChunk.Answer.accepted.rawValue] else {
                    logger.info("a follower did not take a snapshot chunk", metadata: ["peer": "\(transfer.peer)", "answer": "\(answer)"])
                    return false
                }
            } catch {
                logger.info("a snapshot chunk was not delivered", metadata: ["peer": "\(transfer.peer)", "error": "\(error)"])
                return false
            }
            metrics.snapshotChunks.increment()
            guard more else { return true }
            sequence += 1
        }
        return false
    }

    /// Hands the transfer's end to the driver, which tells Raft.
    private func report(_ transfer: SnapshotTransfer, sent: Bool) {
        toDriver { $0.snapshotReports.append((transfer.partition, transfer.message.to, sent)) }
    }

    /// Follower: one chunk from `node`; the complete snapshot goes to the driver.
    func receiveSnapshotChunk(_ body: [UInt8], from node: NodeID) -> [UInt8] {
        guard let chunk = SnapshotChunk(decoding: body), Int(chunk.partition.rawValue) < partitionCount,
            replicas[Int(chunk.partition.rawValue)].contains(ownID)
        else {
            logger.warning("an unreadable snapshot chunk, or one for a partition not replicated here", metadata: ["peer": "\(node)"])
            return [SnapshotChunk.Answer.refused.rawValue]
        }
        switch snapshotAssembler.take(chunk, from: ids.raftID(of: node)) {
        case .accepted: return [SnapshotChunk.Answer.accepted.rawValue]
        case .restart: return [SnapshotChunk.Answer.restart.rawValue]
        case .refused: return [SnapshotChunk.Answer.refused.rawValue]
        case let .complete(message):
            toDriver { $0.messages.append((chunk.partition, message)) }
            return [SnapshotChunk.Answer.accepted.rawValue]
        }
    }
}

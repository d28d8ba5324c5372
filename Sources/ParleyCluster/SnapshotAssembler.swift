import ParleyRaft
import Synchronization

/// The follower's side of snapshot streaming: collects the chunks of each transfer, in
/// order, per sending leader and partition, and once the last one arrives gives back the Raft
/// snapshot message with the assembled state as its data, for the driver to step (and
/// install) like any other message. A new transfer from the same leader for the same
/// partition replaces an unfinished one; a transfer whose state grows beyond `maxBytes` is
/// refused and dropped.
final class SnapshotAssembler: Sendable {
    enum Outcome: Equatable {
        case accepted
        case restart
        case refused
        /// The transfer is complete: step this message.
        case complete(Message)
    }

    private struct Key: Hashable {
        let sender: UInt64
        let partition: PartitionID
    }

    private struct Assembly {
        let transfer: UInt64
        var next: UInt32 = 0
        var pairs: [(key: [UInt8], value: [UInt8])] = []
        var bytes = 0
    }

    private struct Assemblies {
        var open: [Key: Assembly] = [:]
        var chunksTaken = 0
        var snapshotsAssembled = 0
    }

    let maxBytes: Int
    private let assemblies = Mutex(Assemblies())

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Takes `chunk` from the leader with Raft id `sender`.
    func take(_ chunk: SnapshotChunk, from sender: UInt64) -> Outcome {
        let key = Key(sender: sender, partition: chunk.partition)
        return assemblies.withLock { state -> Outcome in
            if chunk.sequence == 0 { state.open[key] = Assembly(transfer: chunk.transfer) }
            guard var assembly = state.open[key], assembly.transfer == chunk.transfer, assembly.next == chunk.sequence else {
                return .restart
            }
            state.open[key] = nil
            guard chunk.pairs.allSatisfy({ $0.key.starts(with: chunk.partition.keyPrefix) }) else { return .refused }
            assembly.bytes += chunk.pairs.reduce(0) { $0 + $1.key.count + $1.value.count }
            guard assembly.bytes <= maxBytes else { return .refused }
            assembly.pairs += chunk.pairs
            assembly.next += 1
            state.chunksTaken += 1
            guard var message = chunk.message else {
                state.open[key] = assembly
                return .accepted
            }
            guard message.from == sender, var snapshot = message.snapshot else { return .refused }
            snapshot.data = ReplicaLayout.encodeState(assembly.pairs)
            message.snapshot = snapshot
            state.snapshotsAssembled += 1
            return .complete(message)
        }
    }

    /// Chunks taken and snapshots completed so far (for tests and metrics).
    var counts: (chunks: Int, snapshots: Int) {
        assemblies.withLock { ($0.chunksTaken, $0.snapshotsAssembled) }
    }
}

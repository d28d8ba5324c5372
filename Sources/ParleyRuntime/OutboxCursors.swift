import ParleyCluster
import ParleyStorage

/// Where the relay's next scan of each partition's outbox starts: just past the records it
/// has already relayed (and deleted, or queued for deletion: `RelayedDeletions`) while
/// serving the partition under one generation.
///
/// Deleted records stay as tombstones in RocksDB until compaction, so a scan from the start
/// of the prefix walks every record relayed since; under the enquiry benchmark those walks
/// were 12% of a node's CPU. Skipping them is sound because a partition's records are written
/// as its log entries apply, in index order, under keys that sort by index: while this node
/// serves the partition under one generation (one Raft term while it leads; the local log moves
/// its generation on after a fence or a failed write), no
/// record can appear below one it has scanned. Any other generation scans from the start.
struct OutboxCursors {
    /// The two queues the relay scans.
    enum Queue: Hashable {
        /// Rooms' notices to staff members (`Outbox`).
        case notices
        /// Effects of registered kinds (`PartitionRecords.effectsPrefix`).
        case effects
    }

    private struct Slot: Hashable {
        let partition: PartitionID
        let queue: Queue
    }

    private var cursors: [Slot: (generation: UInt64, last: [UInt8])] = [:]

    /// The keys to scan in `prefix` (the queue's records of `partition`) under `generation`:
    /// those after the last one known relayed (and deleted, or queued for deletion), or all of
    /// them.
    func range(of queue: Queue, in partition: PartitionID, prefix: [UInt8], generation: UInt64) -> KeyRange {
        var range = KeyRange.prefix(prefix)
        if let cursor = cursors[Slot(partition: partition, queue: queue)], cursor.generation == generation {
            range.lower = cursor.last + [0]  // the smallest key after it
        }
        return range
    }

    /// Forgets where `partition`'s scans stand: the next ones read from the start (after its
    /// relayed records could not be deleted, so they are delivered and deleted again).
    mutating func reset(_ partition: PartitionID) {
        cursors[Slot(partition: partition, queue: .notices)] = nil
        cursors[Slot(partition: partition, queue: .effects)] = nil
    }

    /// Moves the cursor past the leading run of `scanned` (a scan's keys, in order) that is in
    /// `gone` (relayed, and deleted or queued for deletion). A record that failed stays ahead of the cursor with every
    /// record after it, so the next scans see them again.
    mutating func advance(_ queue: Queue, in partition: PartitionID, generation: UInt64, scanned: [[UInt8]], gone: Set<[UInt8]>) {
        var last: [UInt8]?
        for key in scanned {
            guard gone.contains(key) else { break }
            last = key
        }
        if let last { cursors[Slot(partition: partition, queue: queue)] = (generation, last) }
    }
}

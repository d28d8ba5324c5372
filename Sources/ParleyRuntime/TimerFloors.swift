import ParleyCluster

/// Where the timer service's scans of each partition's timers start: at the earliest
/// deadline that can still be set, instead of the first key of the prefix.
///
/// Fired and cancelled timers stay as tombstones in RocksDB until compaction, all ahead of
/// the live timers in deadline order (cancelled offer timers, idle timers set again with each
/// message), so a scan from the prefix walked every timer gone since. A partition's floor is
/// the deadline of the first live timer its last scan found (or the scan's time when it found
/// none); a timer set below it is signalled by the actor that set it (`timerSet`) and lowers
/// its partition's next start. A floor holds only under the generation it was
/// found in (another leader's timers are scanned from the start), and every
/// `fullScanInterval` each partition is scanned from the start in any case: a commit whose
/// answer was lost sends no signal.
struct TimerFloors {
    private var floors: [PartitionID: (generation: UInt64, deadline: Int64)] = [:]
    /// The earliest deadline signalled for each partition since the last round began.
    private var lowered: [PartitionID: Int64] = [:]
    private var lastFullScan: ContinuousClock.Instant?

    /// How often every partition is scanned from the start of its timers.
    static let fullScanInterval: Duration = .seconds(30)

    /// A timer was set for `deadline` (milliseconds) in `partition`, which this node leads.
    mutating func timerSet(_ deadline: Int64, in partition: PartitionID) { lowered[partition] = min(lowered[partition] ?? deadline, deadline) }

    /// Begins a round: takes what was signalled since the last one, by partition, and forgets
    /// every floor when a full scan is due.
    mutating func beginRound(now: ContinuousClock.Instant) -> [PartitionID: Int64] {
        if lastFullScan.map({ now - $0 >= Self.fullScanInterval }) ?? true {
            floors = [:]
            lastFullScan = now
        }
        defer { lowered = [:] }
        return lowered
    }

    /// Forgets `partition`'s floor: its next scan starts from the beginning.
    mutating func forget(_ partition: PartitionID) { floors[partition] = nil }

    /// The earliest deadline to scan `partition` from, under `generation`, in a round that
    /// began with `signalled` for it.
    func start(of partition: PartitionID, generation: UInt64, signalled: Int64?) -> Int64 {
        guard let floor = floors[partition], floor.generation == generation else { return Int64.min }
        return min(floor.deadline, signalled ?? .max)
    }

    /// Notes what a scan of `partition` from `start` found: the deadline of its first live
    /// timer, or none (then nothing is live from `start` on, nor before it).
    mutating func record(_ partition: PartitionID, generation: UInt64, start: Int64, firstLive: Int64?, now: Int64) {
        floors[partition] = (generation, firstLive ?? max(start, now))
    }
}

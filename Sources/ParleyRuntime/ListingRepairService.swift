import Logging
import ParleyCluster
import ParleyDomain
import ServiceLifecycle

/// Puts back into the listings (`IndexState.channels`, `IndexState.staff`) every channel and
/// staff account of the partitions this node leads that a listing lacks: accounts and
/// channels made before the listings existed, or an entry an effect never reached. Looks a
/// few times after start (leadership settles meanwhile), then again every `interval`; each
/// look is one scan of this node's led partitions' profile records and one read of each
/// listing, and writes only what is missing.
public struct ListingRepairService: Service {
    let runtime: NodeRuntime
    let logger: Logger
    let interval: Duration

    public init(runtime: NodeRuntime, interval: Duration = .seconds(3_600), logger: Logger = Logger(label: "parley.listings")) {
        self.runtime = runtime
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        for delay in [2, 10, 30] as [Int64] {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(delay)) }
            } catch {
                return
            }
            await repairOnce()
        }
        await repeatUntilShutdown(every: interval) { await repairOnce() }
    }

    /// One look; returns how many entries were put back.
    @discardableResult
    public func repairOnce() async -> Int {
        var repaired = 0
        do throws(RuntimeError) {
            repaired += try await repair(IndexState.channels, kind: .channel, profileRecord: ChannelStore.profile) { (id) async throws(RuntimeError) -> [UInt8] in
                (try await runtime.channel(ChannelID(unchecked: id))).encoded
            }
            repaired += try await repair(IndexState.staff, kind: .staff, profileRecord: StaffStore.profile) { (id) async throws(RuntimeError) -> [UInt8] in
                (try await runtime.staffAccount(StaffID(unchecked: id))).listing.summary
            }
        } catch {
            logger.info("listings not checked this time", metadata: ["error": "\(error)"])
        }
        if repaired > 0 { logger.notice("put entries back into the listings", metadata: ["count": "\(repaired)"]) }
        return repaired
    }

    private func repair(
        _ listing: String, kind: EntityKind, profileRecord: UInt8, summary: (String) async throws(RuntimeError) -> [UInt8]
    ) async throws(RuntimeError) -> Int {
        let store = runtime.store
        let served = runtime.configuration.servedPartitions
        let partitions = runtime.partitioner.allPartitions.filter { served.serves($0) }
        guard !partitions.isEmpty else { return 0 }
        let ids = try await store.database.executor.run { () throws(RuntimeError) -> [String] in
            try readingState {
                var ids: [String] = []
                for partition in partitions {
                    let prefix = partition.keyPrefix + [kind.rawValue]
                    for entry in try store.database.entries(.prefix(prefix), in: store.family) {
                        // key: prefix ++ id ++ 0x00 ++ record; ids never hold 0x00.
                        let rest = entry.key[prefix.count...]
                        guard let end = rest.firstIndex(of: 0), entry.key.count == end + 2, entry.key[end + 1] == profileRecord else { continue }
                        ids.append(String(decoding: rest[..<end], as: UTF8.self))
                    }
                }
                return ids
            }
        }
        guard !ids.isEmpty else { return 0 }
        let listed = try await runtime.state(of: listing, IndexState.self).entries
        var repaired = 0
        for id in ids where listed[id] == nil {
            _ = try await runtime.command(IndexCommand.put(member: id, summary: try await summary(id)), to: listing, of: IndexState.self)
            repaired += 1
        }
        return repaired
    }
}

extension Effect {
    /// The summary an index `put` effect carries (empty for any other effect).
    var summary: [UInt8] {
        guard case let .send(_, command) = self, case let .put(_, summary)? = try? IndexCommand.decode(command) else { return [] }
        return summary
    }
}

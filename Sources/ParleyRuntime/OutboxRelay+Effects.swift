import Logging
import Metrics
import ParleyCluster
import ParleyDomain
import ParleyStorage

extension OutboxRelay {
    /// Delivers up to 256 effect records of each partition this node serves: commands to
    /// other entities (applied once there, by source sequence) and deliveries to sinks. Each
    /// target's records go in order and stop at the first failure; different targets go
    /// concurrently. Returns the keys that are done (delivered, refused for good, unreadable)
    /// and whether any failed.
    func relayEffects() async -> (done: [[UInt8]], failed: Bool, scans: [OutboxScan]) {
        let served = runtime.configuration.servedPartitions
        var done: [[UInt8]] = []
        var failed = false
        var scans: [OutboxScan] = []
        var byTarget: [String: [(key: [UInt8], record: EffectRecord)]] = [:]
        var order: [String] = []
        for partition in runtime.partitioner.allPartitions where served.serves(partition) {
            guard let (scan, records) = self.scan(.effects, of: partition, prefix: PartitionRecords.effectsPrefix(partition)) else {
                failed = true
                continue
            }
            scans.append(scan)
            for (key, value) in records {
                guard let record = try? EffectRecord.decode(value) else {
                    logger.error("dropping an unreadable effect record", metadata: ["partition": "\(partition)"])
                    done.append(key)
                    continue
                }
                let target: String
                switch record.effect {
                case let .send(entity, _): target = "send " + entity.description
                case let .deliver(sink, _): target = "deliver \(sink) " + record.source.description
                }
                if byTarget[target] == nil { order.append(target) }
                byTarget[target, default: []].append((key, record))
            }
        }
        let targets = order.compactMap { byTarget[$0] }
        for outcome in await concurrently(targets, atMost: Self.concurrentTargets, { await self.apply($0) }) {
            done += outcome.delivered
            failed = failed || outcome.failed
        }
        return (done, failed, scans)
    }

    /// One target's records, in order, until one fails: commands to an entity go in runs of
    /// up to `deliveriesPerCommand`, each run one call and one log entry at the target.
    private func apply(_ records: [(key: [UInt8], record: EffectRecord)]) async -> (delivered: [[UInt8]], failed: Bool) {
        if case let .send(target, _)? = records.first?.record.effect {
            return await send(records, to: target)
        }
        var delivered: [[UInt8]] = []
        for (key, record) in records {
            do throws(RuntimeError) {
                switch record.effect {
                case let .send(target, command):
                    let origin = EffectOrigin(source: record.source, seq: record.seq)
                    _ = try await runtime.perform(.command(target, caller: .entity(record.source), payload: command, origin: origin, answer: .none))
                case let .deliver(sinkName, payload):
                    guard let sink = runtime.configuration.deliverySinks[sinkName] else {
                        throw RuntimeError.unavailable(code: "sink_unknown", message: "no delivery sink \(sinkName) on this node")
                    }
                    try await sink.deliver(OutboundDelivery(source: record.source, seq: record.seq, epoch: record.epoch, payload: payload))
                }
                delivered.append(key)
            } catch {
                if Self.isFinal(error) {
                    // Refused by the rules, or unreadable by its target: it would fail again.
                    logger.warning("an effect can never be applied; dropping it", metadata: ["source": "\(record.source)", "error": "\(error)"])
                    delivered.append(key)
                    continue
                }
                logger.debug("effect delivery failed; will retry", metadata: ["source": "\(record.source)", "error": "\(error)"])
                return (delivered, true)
            }
        }
        return (delivered, false)
    }

    private func send(_ records: [(key: [UInt8], record: EffectRecord)], to target: EntityID) async -> (delivered: [[UInt8]], failed: Bool) {
        var delivered: [[UInt8]] = []
        for start in stride(from: 0, to: records.count, by: Self.deliveriesPerCommand) {
            let run = records[start..<min(start + Self.deliveriesPerCommand, records.count)]
            let commands = run.compactMap { item -> EffectCommand? in
                guard case let .send(_, command) = item.record.effect else { return nil }
                return EffectCommand(origin: EffectOrigin(source: item.record.source, seq: item.record.seq), payload: command)
            }
            do throws(RuntimeError) {
                _ = try await runtime.perform(.applyEffects(target, commands))
                delivered += run.map(\.key)
            } catch {
                if Self.isFinal(error) {
                    logger.warning("effects can never be applied; dropping them", metadata: ["target": "\(target)", "error": "\(error)"])
                    delivered += run.map(\.key)
                    continue
                }
                logger.debug("effect delivery failed; will retry", metadata: ["target": "\(target)", "error": "\(error)"])
                return (delivered, true)
            }
        }
        return (delivered, false)
    }

    /// Whether delivering again could never succeed.
    static func isFinal(_ error: RuntimeError) -> Bool {
        switch error {
        case .rejected: true
        case let .internalFailure(code, _): code == KindActors<PlainHost<IndexState>>.unreadableCommand
        case .unavailable, .servedElsewhere: false
        }
    }

}

extension NodeRuntime {
    /// Deletes relayed records (delivered, or never deliverable) through their partitions'
    /// logs, so every replica drops them; answers how many went and the partitions whose
    /// deletion failed (their records stay, and are relayed or fired again: their targets
    /// apply them once).
    func deleteRelayedRecords(_ keys: [[UInt8]], logger: Logger) async -> (deleted: Int, failed: Set<PartitionID>) {
        let log = self.log
        let byPartition = Dictionary(grouping: keys) { PartitionID(UInt16($0[0]) << 8 | UInt16($0[1])) }
        return await withTaskGroup(of: (partition: PartitionID, deleted: Int?).self) { group in
            for (partition, keys) in byPartition {
                let ticket = log.append(EntityEnvelope.outboxDelivered(keys).encoded(), to: partition, generation: log.generation(of: partition))
                group.addTask {
                    do {
                        _ = try await ticket.result()
                        return (partition, keys.count)
                    } catch {
                        logger.info("relayed records not yet deleted; they will be relayed again", metadata: ["partition": "\(partition)", "error": "\(error)"])
                        return (partition, nil)
                    }
                }
            }
            var outcome = (deleted: 0, failed: Set<PartitionID>())
            for await result in group {
                if let deleted = result.deleted { outcome.deleted += deleted } else { outcome.failed.insert(result.partition) }
            }
            return outcome
        }
    }
}

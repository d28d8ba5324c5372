import Foundation
import ParleyCluster
import ParleyDomain
import ParleyStorage
import Testing

@testable import ParleyRuntime

/// The entity seam on one node, with a kind that exists only in the tests: commands and
/// their authorization, effects applied once, durable timers (also across a restart), soft
/// state that is never logged.
@Suite("Entity seam (one node)")
struct EntitySeamTests {
    static var configuration: RuntimeConfiguration {
        var configuration = RuntimeConfiguration()
        configuration.kinds = ProbeState.kinds
        return configuration
    }

    static func probe(_ runtime: NodeRuntime, _ key: String) async throws -> ProbeState {
        try await runtime.state(of: key, ProbeState.self)
    }

    static func eventually(_ limit: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        try await ReplicatedRuntimeTests.eventually(limit, condition)
    }

    @Test func commandsAndTheRulesAuthorization() async throws {
        try await withRuntime(applier: SwitchableApplier(kinds: ProbeState.kinds), configuration: Self.configuration) { runtime in
            let after = try await runtime.command(.add(3), to: "p1", of: ProbeState.self)
            #expect(after.total == 3)
            await #expect(throws: RuntimeError.rejected(DomainError(.forbidden, "agent bo may not reset a probe"))) {
                try await runtime.command(.reset, to: "p1", of: ProbeState.self, by: .staff(bo, role: .agent))
            }
            #expect(try await runtime.command(.reset, to: "p1", of: ProbeState.self, by: .staff(admin, role: .admin)).total == 0)
        }
    }

    @Test func anEffectIsAppliedOnceWhateverItsDeliveries() async throws {
        try await withRuntime(applier: SwitchableApplier(kinds: ProbeState.kinds), configuration: Self.configuration) { runtime in
            _ = try await runtime.command(.forward(7, to: "b"), to: "a", of: ProbeState.self)
            #expect(try await Self.eventually { try await Self.probe(runtime, "b").total == 7 })
            // The same effect delivered again (a relay retrying after a lost answer) changes nothing;
            // a later one from the same source does.
            let source = EntityID(kind: ProbeState.kind, key: "a")
            let add = ProbeState.Command.add(100).encoded
            let target = EntityID(kind: ProbeState.kind, key: "c")
            for seq: UInt64 in [5, 5, 4, 6] {
                _ = try await runtime.perform(.command(target, caller: .entity(source), payload: add, origin: EffectOrigin(source: source, seq: seq), answer: .none))
            }
            #expect(try await Self.probe(runtime, "c").total == 200)
            // Every outbox record was delivered and deleted.
            #expect(try await Self.eventually { try Self.effectRecords(runtime) == 0 })
        }
    }

    static func effectRecords(_ runtime: NodeRuntime) throws -> Int {
        try runtime.partitioner.allPartitions.reduce(0) { count, partition in
            count + (try runtime.store.database.entries(.prefix(PartitionRecords.effectsPrefix(partition)), in: runtime.store.family).count)
        }
    }

    static func timerRecords(_ runtime: NodeRuntime) throws -> Int {
        try runtime.partitioner.allPartitions.reduce(0) { count, partition in
            count + (try runtime.store.database.entries(.prefix(PartitionRecords.timersPrefix(partition)), in: runtime.store.family).count)
        }
    }

    @Test func timersFireAtTheirDeadlineAndCancelledOnesDoNot() async throws {
        let clock = ManualClock()
        try await withRuntime(applier: SwitchableApplier(kinds: ProbeState.kinds), clock: clock, configuration: Self.configuration) { runtime in
            let start = clock.now()
            _ = try await runtime.command(.schedule(tag: "late", at: start.adding(milliseconds: 60_000)), to: "t", of: ProbeState.self)
            _ = try await runtime.command(.schedule(tag: "soon", at: start.adding(milliseconds: 1_000)), to: "t", of: ProbeState.self)
            _ = try await runtime.command(.schedule(tag: "gone", at: start.adding(milliseconds: 1_000)), to: "t", of: ProbeState.self)
            _ = try await runtime.command(.cancel(tag: "gone"), to: "t", of: ProbeState.self)
            // Setting a tag again moves it: one record, the new deadline.
            _ = try await runtime.command(.schedule(tag: "late", at: start.adding(milliseconds: 90_000)), to: "t", of: ProbeState.self)
            #expect(try Self.timerRecords(runtime) == 2)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await Self.probe(runtime, "t").fired == [])
            clock.advance(milliseconds: 1_000)
            #expect(try await Self.eventually { try await Self.probe(runtime, "t").fired == ["soon"] })
            clock.advance(milliseconds: 60_000)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await Self.probe(runtime, "t").fired == ["soon"])
            clock.advance(milliseconds: 30_000)
            #expect(try await Self.eventually { try await Self.probe(runtime, "t").fired == ["soon", "late"] })
            #expect(try Self.timerRecords(runtime) == 0)
        }
    }

    @Test func aTimerSetBelowWhereTheScansStartStillFires() async throws {
        let clock = ManualClock()
        try await withRuntime(applier: SwitchableApplier(kinds: ProbeState.kinds), clock: clock, configuration: Self.configuration) { runtime in
            let start = clock.now()
            _ = try await runtime.command(.schedule(tag: "late", at: start.adding(milliseconds: 60_000)), to: "f", of: ProbeState.self)
            // The service scans meanwhile: its scans now start at the late timer (or, where
            // nothing is set, at the clock's time).
            try await Task.sleep(for: .milliseconds(200))
            _ = try await runtime.command(.schedule(tag: "soon", at: start.adding(milliseconds: 1_000)), to: "f", of: ProbeState.self)
            _ = try await runtime.command(.schedule(tag: "past", at: start.adding(milliseconds: -5_000)), to: "g", of: ProbeState.self)
            #expect(try await Self.eventually { try await Self.probe(runtime, "g").fired == ["past"] })
            clock.advance(milliseconds: 1_000)
            #expect(try await Self.eventually { try await Self.probe(runtime, "f").fired == ["soon"] })
        }
    }

    @Test func anEntitysTimersDueTogetherFireInDeadlineOrder() async throws {
        let clock = ManualClock()
        try await withRuntime(applier: SwitchableApplier(kinds: ProbeState.kinds), clock: clock, configuration: Self.configuration) { runtime in
            let start = clock.now()
            for (tag, offset) in [("third", 3_000), ("first", 1_000), ("second", 2_000)] as [(String, Int64)] {
                _ = try await runtime.command(.schedule(tag: tag, at: start.adding(milliseconds: offset)), to: "order", of: ProbeState.self)
            }
            clock.advance(milliseconds: 5_000)
            #expect(try await Self.eventually { try await Self.probe(runtime, "order").fired.count == 3 })
            #expect(try await Self.probe(runtime, "order").fired == ["first", "second", "third"])
        }
    }

    @Test func aTimerDueWhileTheNodeWasDownFiresAtRestart() async throws {
        let dir = NSTemporaryDirectory() + "parley-timer-restart-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock()
        try await withRuntime(directory: dir, applier: SwitchableApplier(kinds: ProbeState.kinds), clock: clock, configuration: Self.configuration) { runtime in
            _ = try await runtime.command(.schedule(tag: "wake", at: clock.now().adding(milliseconds: 5_000)), to: "r", of: ProbeState.self)
        }
        clock.advance(milliseconds: 10_000)
        try await withRuntime(directory: dir, applier: SwitchableApplier(kinds: ProbeState.kinds), clock: clock, configuration: Self.configuration) { runtime in
            let fired = try await Self.eventually { try await Self.probe(runtime, "r").fired == ["wake"] }
            #expect(fired)
        }
    }

    @Test func softStateIsKeptButNeverLogged() async throws {
        try await withRuntime(applier: SwitchableApplier(kinds: ProbeState.kinds), configuration: Self.configuration) { runtime in
            let entity = EntityID(kind: ProbeState.kind, key: "s")
            _ = try await runtime.command(.add(1), to: "s", of: ProbeState.self)
            let partition = runtime.partitioner.partition(for: entity.description)
            let logged = try Self.stateRecordCount(runtime, partition)
            for name in ["web", "app", "web"] { _ = try await runtime.command(.ping(from: name), to: "s", of: ProbeState.self) }
            #expect(String(decoding: try await runtime.read("soft", of: entity), as: UTF8.self) == "app,web")
            #expect(try Self.stateRecordCount(runtime, partition) == logged)
            // Passivated, the entity comes back without it: soft state lives only in the actor.
            #expect(runtime.passivateIdle(now: .now + .seconds(3_600)) >= 1)
            #expect(try await runtime.read("soft", of: entity).isEmpty)
            #expect(try await Self.probe(runtime, "s").total == 1)
        }
    }

    static func stateRecordCount(_ runtime: NodeRuntime, _ partition: PartitionID) throws -> Int {
        try runtime.store.database.entries(.prefix(partition.keyPrefix), in: runtime.store.family).count
    }
}

/// Listings put right, and records that can never be delivered dropped.
@Suite("Entity seam upkeep")
struct EntitySeamUpkeepTests {
    @Test func channelsAndAccountsMissingFromTheListingsArePutBack() async throws {
        try await withRuntime { runtime in
            // A channel and an account written as before the listings existed (version 1 entries,
            // no effects): applied as they always were, and missing from the listings.
            let channel = ChannelID(unchecked: "ch_old")
            let profile = ChannelProfile(name: "Old site", kind: .weblink, createdAt: Timestamp(milliseconds: 1))
            let staff = StaffID(unchecked: "old-timer")
            let staffProfile = StaffProfile(displayName: "Old Timer", role: .agent, createdAt: Timestamp(milliseconds: 1))
            for (entity, event) in [(EntityID.channel(channel), ChannelEvent.created(profile).encoded),
                                    (EntityID.staff(staff), StaffEvent.created(staffProfile, tokenHash: Array(repeating: 3, count: 32)).encoded)] {
                var writer = BinaryWriter()
                writer.write(UInt8(1))
                writer.write(entity.kind.rawValue)
                writer.write(entity.key)
                writer.writeVarint(0)
                writer.writeVarint(1)
                writer.append(event)
                let partition = runtime.partitioner.partition(for: entity.description)
                _ = try await runtime.log.append(writer.bytes, to: partition, generation: runtime.log.generation(of: partition)).result()
            }
            #expect(try await runtime.channel(channel).profile == profile)
            #expect(try await runtime.allChannels().isEmpty)
            let repair = ListingRepairService(runtime: runtime)
            #expect(await repair.repairOnce() == 2)
            #expect(try await runtime.allChannels().map(\.id) == [channel])
            #expect(try await runtime.allStaff().map(\.id) == [staff])
            #expect(await repair.repairOnce() == 0)
        }
    }

    @Test func roomNoticesOfVersionOneEntriesAreStillDelivered() async throws {
        try await withRuntime { runtime in
            _ = try await runtime.staffCommand(.create(displayName: "Bo", role: .agent, tokenHash: Array(repeating: 1, count: 32)), for: bo)
            let room = RoomID(unchecked: "r_old")
            let profile = RoomProfile(kind: .space, name: "Old", description: "", visibility: .private, createdBy: bo, createdAt: Timestamp(milliseconds: 1))
            let notices = [NoticeBatch(room: room, staff: bo, eventSeq: 1, notices: [.joined(.space)])]
            let payload = EntityEnvelope.room(room, firstEventSeq: 1, [.created(profile, members: [bo])], notices: notices).encoded()
            #expect(payload[0] == 1)
            let partition = runtime.partitioner.partition(for: EntityID.room(room).description)
            _ = try await runtime.log.append(payload, to: partition, generation: runtime.log.generation(of: partition)).result()
            runtime.outboxSignal.fire()
            #expect(try await ReplicatedRuntimeTests.eventually { try await runtime.staffAccount(bo).rooms[room]?.isMember == true })
            #expect(try await runtime.room(room, reader: bo).profile == profile)
        }
    }

    @Test func anUnreadableTimerRecordIsDropped() async throws {
        try await withRuntime { runtime in
            let key = PartitionRecords.timersPrefix(PartitionID(3)) + StateKeys.bigEndian(1) + [0x21]
            var batch = WriteBatch()
            batch.put(key, [0xFF, 0x00], in: runtime.store.family)
            try runtime.store.database.write(batch, sync: true)
            #expect(try await ReplicatedRuntimeTests.eventually {
                try runtime.store.database.get(key, in: runtime.store.family) == nil
            })
        }
    }
}

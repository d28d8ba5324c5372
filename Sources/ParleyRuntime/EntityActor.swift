import Metrics
import ParleyCluster
import ParleyDomain
import Synchronization

/// The actor of one entity of a registered kind, on its partition's leader. It decides each
/// command against its state (and soft state), applies the events at once so pipelined
/// commands decide on top of them, queues the entry (events, effects, timer changes, origin)
/// on the partition log without suspending in between, answers once it is committed, and
/// publishes the events in event order. A command from another entity's effect is applied
/// once: a source sequence at or below the last one applied from that source is dropped.
/// What a kind adds (inputs to decide with, its own answers and reads) is its `Host`.
actor EntityActor<Host: EntityHost>: ActivatedEntity {
    typealias Rules = Host.Rules
    let entity: EntityID
    let partition: PartitionID
    private let registration: EntityKindRegistration<Rules>
    let context: KindContext
    /// The kind's additions, for this activation.
    let host: Host

    private var state: Rules?
    /// The state as of the last committed command: what reads see.
    private(set) var committedState: Rules?
    var soft = Rules.initialSoft
    private var lastEventSeq: UInt64 = 0
    /// Deadlines of the entity's timers, by tag, as decided.
    private var timers: [String: Timestamp] = [:]
    /// The last effect sequence applied from each source seen so far (read from the store
    /// on a source's first command, then kept as decided).
    private var origins: [EntityID: UInt64] = [:]
    private var decidedCount: UInt64 = 0
    private var committedCount: UInt64 = 0
    /// Decided commands (by number) whose commit has not settled yet, and callers waiting
    /// until every command decided before them has settled.
    private var unsettled: Set<UInt64> = []
    private var settleWaiters: [(through: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private(set) var generation: UInt64 = 0
    private let retired = Atomic<Bool>(false)
    /// Committed events wait here (by first event seq) until every earlier one is published.
    private var toPublish: [UInt64: (events: [Rules.Event], state: Rules)] = [:]
    private var nextToPublish: UInt64 = 1
    /// A commit is collecting its successors' events before publishing them with its own.
    private var publishPending = false

    nonisolated var isRetired: Bool { retired.load(ordering: .acquiring) }

    /// Entries this kind's actors committed as leader (`parley_entity_entries_total{kind}`):
    /// decisions, timer drops and kinds' own entries.
    private let entriesCommitted: Counter

    init(entity: EntityID, partition: PartitionID, registration: EntityKindRegistration<Rules>, context: KindContext, entriesCommitted: Counter) {
        self.entriesCommitted = entriesCommitted
        self.entity = entity
        self.partition = partition
        self.registration = registration
        self.context = context
        self.host = Host(entity: entity, partition: partition, context: context)
    }

    /// Decides and commits `command`; answers once it is committed (for a repeated effect,
    /// once what it repeats is).
    func handle(_ command: Rules.Command, caller: Caller, origin: EffectOrigin? = nil) async throws(RuntimeError) -> Host.Answer {
        let current = try activeState()
        if let origin, origin.seq <= (try appliedSeq(from: origin.source)) {
            // Applied already, or being committed: answer once it is durable (a commit that
            // fails retires this activation, and the effect is decided again on a fresh one).
            try await settled()
            return host.answer(state: committedState ?? current, firstEventSeq: lastEventSeq + 1, events: [])
        }
        var nextSoft = soft
        let context = DecisionContext(caller: caller, now: self.context.clock.now(), entity: entity)
        switch try host.decide(command, on: current, committed: committedState ?? current, soft: &nextSoft, context: context) {
        case let .answered(answer):
            return answer
        case let .decided(decision):
            soft = nextSoft
            let committed = try await commit(decision, on: current, origins: origin.map { [$0] } ?? [], command: command)
            return host.answer(state: committed.state, firstEventSeq: committed.firstEventSeq, events: committed.events)
        }
    }

    /// Fires timer `tag` set for `deadline`, if it is still set for then: its command is
    /// decided as the node's own (`Caller.system`), and the timer is gone in the same entry.
    /// A command the rules refuse still removes the timer.
    func fire(_ tag: String, deadline: Timestamp) async throws(RuntimeError) {
        let current = try activeState()
        guard timers[tag] == deadline else {
            let ticket = context.log.append(
                EntityEntry(entity: entity, firstEventSeq: lastEventSeq + 1, events: [], timers: [.drop(tag: tag, at: deadline)]).encoded(), to: partition,
                generation: generation)
            do {
                _ = try await ticket.result()
                entriesCommitted.increment()
            } catch {
                retire()
                throw .log(error)
            }
            return
        }
        var decision = Decision<Rules.Event>()
        let command = Rules.command(forTimer: tag)
        if let command {
            var nextSoft = soft
            let context = DecisionContext(caller: .system, now: self.context.clock.now(), entity: entity)
            do {
                if case let .decided(decided) = try host.decide(command, on: current, committed: committedState ?? current, soft: &nextSoft, context: context) {
                    decision = decided
                    soft = nextSoft
                }
            } catch {
                self.context.logger.info("a timer's command was refused", metadata: ["entity": "\(entity)", "tag": "\(tag)", "error": "\(error)"])
            }
        }
        // The fired timer goes unless the decision set it again; set again at or before the
        // deadline just fired, it would fire at once forever: it waits a second.
        var setAgain = false
        for (index, effect) in decision.effects.enumerated() {
            guard case let .setTimer(setTag, at) = effect, setTag == tag else { continue }
            setAgain = true
            if at <= deadline { decision.effects[index] = .setTimer(tag: tag, at: context.clock.now().adding(milliseconds: 1_000)) }
        }
        if !setAgain { decision.effects.insert(.cancelTimer(tag: tag), at: 0) }
        _ = try await commit(decision, on: current, origins: [], command: nil)
    }

    /// What a commit answers with: the state after it and the events it appended.
    struct Committed {
        let state: Rules
        let firstEventSeq: UInt64
        let events: [Rules.Event]
    }

    /// Commits `decision` (decided on `current` for `command`, if a command decided it).
    func commit(_ decision: Decision<Rules.Event>, on current: Rules, origins: [EffectOrigin], command: Rules.Command?) async throws(RuntimeError) -> Committed {
        // Refused before anything moves (the timers below are changed as they are read).
        guard decision.effects.count <= EntityEntry.maxEffects else {
            throw .rejected(DomainError(.invalidArgument, "a decision may carry at most \(EntityEntry.maxEffects) effects"))
        }
        var outbox: [OutboxEffect] = []
        var changes: [TimerChange] = []
        var earliestSet: Timestamp?
        for effect in decision.effects {
            if let leaving = OutboxEffect(effect) {
                outbox.append(leaving)
                continue
            }
            switch effect {
            case .send, .deliver: break
            case let .setTimer(tag, at):
                changes.append(.set(tag: tag, at: at, replacing: timers[tag]))
                timers[tag] = at
                earliestSet = min(earliestSet ?? at, at)
            case let .cancelTimer(tag):
                if let at = timers.removeValue(forKey: tag) { changes.append(.cancel(tag: tag, at: at)) }
            }
        }
        guard !decision.events.isEmpty || !outbox.isEmpty || !changes.isEmpty || !origins.isEmpty else {
            // Nothing to write: answer once what it was decided on is durable (it may rest on
            // commands still committing, which a failover could take back).
            try await settled()
            return Committed(state: committedState ?? current, firstEventSeq: lastEventSeq + 1, events: [])
        }
        var next = current
        for event in decision.events { next.apply(event) }
        state = next
        let firstEventSeq = lastEventSeq + 1
        lastEventSeq += UInt64(decision.events.count)
        for origin in origins { self.origins[origin.source] = origin.seq }
        let entry = EntityEntry.encode(
            entity: entity, firstEventSeq: firstEventSeq, events: decision.events, effects: outbox, timers: changes, origins: origins)
        host.decided(command, events: decision.events, firstEventSeq: firstEventSeq)
        decidedCount += 1
        let number = decidedCount
        unsettled.insert(number)
        let ticket = context.log.append(entry, to: partition, generation: generation)
        do {
            _ = try await ticket.result()
            entriesCommitted.increment()
        } catch {
            retire()
            settle(number)
            host.settled(command)
            throw .log(error)
        }
        settle(number)
        host.settled(command)
        if number > committedCount {
            committedCount = number
            committedState = next
        }
        if !decision.events.isEmpty, registration.publish != nil { await publishInOrder(decision.events, from: firstEventSeq, state: next) }
        if !outbox.isEmpty { context.outboxWritten() }
        if let earliestSet { context.timerSet(partition, earliestSet) }
        return Committed(state: next, firstEventSeq: firstEventSeq, events: decision.events)
    }

    /// Appends `payload`, an entry of this entity's own making (a kind's special entry),
    /// fenced by this activation's generation; a failure retires the activation.
    func appendFenced(_ payload: [UInt8]) async throws(RuntimeError) {
        _ = try activeState()
        let ticket = context.log.append(payload, to: partition, generation: generation)
        do {
            _ = try await ticket.result()
            entriesCommitted.increment()
        } catch {
            retire()
            throw .log(error)
        }
    }

    /// Publishes `events` once every earlier committed event is published. The commits of
    /// one log batch resume this actor one after another: while later commands are still
    /// committing, the first of them yields, so the others (already queued on this actor) add
    /// their events first, and publishes them all as one batch, with the state after the
    /// last; subscribers then handle one item per log batch, not one per command. With
    /// nothing else committing (an account's notices, one run at a time) it publishes at once.
    private func publishInOrder(_ events: [Rules.Event], from firstEventSeq: UInt64, state: Rules) async {
        toPublish[firstEventSeq] = (events, state)
        guard !publishPending else { return }
        if !unsettled.isEmpty {
            publishPending = true
            await Task.yield()
            publishPending = false
        }
        publishReady()
    }

    /// Publishes the committed events waiting from `nextToPublish` on, up to the first gap, as
    /// one batch with the state after the last.
    private func publishReady() {
        let start = nextToPublish
        var ready: [Rules.Event] = []
        var after: Rules?
        while let next = toPublish.removeValue(forKey: nextToPublish) {
            nextToPublish += UInt64(next.events.count)
            ready += next.events
            after = next.state
        }
        if let after, !ready.isEmpty { registration.publish?(context.sinks, start, ready, after) }
    }

    /// Returns once every command decided so far has settled; throws if one failed (this
    /// activation is retired: the caller decides again on a fresh one).
    func settled() async throws(RuntimeError) {
        let through = decidedCount
        if unsettled.contains(where: { $0 <= through }) {
            await withCheckedContinuation { continuation in settleWaiters.append((through, continuation)) }
        }
        guard !isRetired else { throw .unavailable(code: RuntimeError.entityRetired, message: "\(entity) is being reactivated") }
    }

    private func settle(_ number: UInt64) {
        unsettled.remove(number)
        let oldest = unsettled.min() ?? .max
        var waiting: [(through: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        for waiter in settleWaiters {
            if waiter.through < oldest { waiter.continuation.resume() } else { waiting.append(waiter) }
        }
        settleWaiters = waiting
    }

    /// A read the kind's host serves, if `caller` may read the entity.
    func hostRead(_ name: String, payload: [UInt8], by caller: Caller) throws(RuntimeError) -> [UInt8]? {
        try host.read(name, payload: payload, committed: try read(by: caller), caller: caller)
    }

    /// The entity as committed, if `caller` may read it.
    func read(by caller: Caller) throws(RuntimeError) -> Rules {
        let active = try activeState()
        let current = committedState ?? active
        do {
            try current.authorizeRead(by: caller)
        } catch {
            throw .rejected(error)
        }
        return current
    }

    /// What the kind shows of the soft state, if it shows any and `caller` may read it.
    func softView(by caller: Caller) throws(RuntimeError) -> [UInt8]? {
        _ = try read(by: caller)
        return registration.showSoft?(soft, context.clock.now())
    }

    func appliedSeq(from source: EntityID) throws(RuntimeError) -> UInt64 {
        if let known = origins[source] { return known }
        let reader = context.reader(for: entity, partition: partition)
        let stored = try readingState { () throws -> UInt64 in
            try reader.get(PartitionRecords.appliedOrigin[0], Array(PartitionRecords.appliedOrigin[1...]) + Array(source.description.utf8))
                .flatMap { StateKeys.readBigEndian($0[...]) } ?? 0
        }
        origins[source] = stored
        return stored
    }

    /// Loads the applied state on first use (on this actor, never on an event loop).
    func activeState() throws(RuntimeError) -> Rules {
        if let state { return state }
        guard !isRetired else { throw .unavailable(code: RuntimeError.entityRetired, message: "\(entity) is being reactivated") }
        generation = context.log.generation(of: partition)
        let reader = context.reader(for: entity, partition: partition)
        let storage = registration.storage
        let (loaded, seq, timers) = try readingState { () throws -> (Rules, UInt64, [String: Timestamp]) in
            let loaded = try storage.load(reader)
            let seq =
                try storage.eventSeq?(loaded)
                ?? reader.get(PartitionRecords.lastEventSeq[0], [PartitionRecords.lastEventSeq[1]]).flatMap { StateKeys.readBigEndian($0[...]) } ?? 0
            var timers: [String: Timestamp] = [:]
            for record in try reader.entries(PartitionRecords.timer[0], [PartitionRecords.timer[1]]) {
                guard let at = StateKeys.readBigEndian(record.value[...]) else { continue }
                timers[String(decoding: record.rest, as: UTF8.self)] = Timestamp(milliseconds: Int64(bitPattern: at))
            }
            return (loaded, seq, timers)
        }
        state = loaded
        committedState = loaded
        lastEventSeq = seq
        nextToPublish = seq + 1
        self.timers = timers
        return loaded
    }

    private func retire() {
        retired.store(true, ordering: .releasing)
        state = nil
        committedState = nil
        // Events committed before the failure are durable: they are published (in order, up to
        // the first gap the failed commit leaves), not dropped with the rest.
        publishReady()
        toPublish = [:]
    }
}

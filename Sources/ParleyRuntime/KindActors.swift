import Logging
import Metrics
import ParleyCluster
import ParleyDomain
import ParleyStorage

/// What the actors of every kind share on one node: the log, the clock, the state they
/// load from, where they publish, and whom they wake after writing effects or timers.
struct KindContext: Sendable {
    let log: any PartitionLog
    let clock: any WallClock
    let database: Database
    let family: ColumnFamily
    let sinks: LiveSinks
    let logger: Logger
    let configuration: RuntimeConfiguration
    let outboxWritten: @Sendable () -> Void
    let timerSet: @Sendable (PartitionID, Timestamp) -> Void
    let partitioner: Partitioner
    let served: ServedPartitions
    let maxFencedRetries: Int

    func reader(for entity: EntityID, partition: PartitionID) -> EntityRecordReader {
        EntityRecordReader(records: EntityRecords(entity: entity, partition: partition), database: database, family: family)
    }
}

/// A registered kind bound to one node: its actors, partition by partition, and the calls
/// the node dispatches to them by kind tag.
protocol BoundKind: Sendable {
    var kind: EntityKind { get }
    /// Decides a command (in the kind's encoding) on this node; answers as `answer` asks.
    func command(_ entity: EntityID, _ payload: [UInt8], caller: Caller, origin: EffectOrigin?, answer: CallAnswer) async throws(RuntimeError) -> [UInt8]
    /// A read by name ("" the state, "soft" the soft state, else a host's read or a
    /// registered operation).
    func read(_ entity: EntityID, name: String, caller: Caller, payload: [UInt8], runtime: NodeRuntime) async throws(RuntimeError) -> [UInt8]
    /// Whether read `name` must be confirmed by a quorum first.
    func isLinearizable(read name: String) -> Bool
    func fireTimer(_ entity: EntityID, tag: String, deadline: Timestamp) async throws(RuntimeError)
    /// Applies a run of effects' commands in one entry (each once).
    func applyEffects(_ entity: EntityID, _ commands: [EffectCommand]) async throws(RuntimeError)
    func passivateIdle(now: ContinuousClock.Instant, idleFor: Duration) -> Int
    var activeCount: Int { get }
}

final class KindActors<Host: EntityHost>: BoundKind {
    typealias Rules = Host.Rules
    let registration: EntityKindRegistration<Rules>
    let registries: [EntityRegistry<EntityActor<Host>>]
    let partitioner: Partitioner
    let maxFencedRetries: Int
    let logger: Logger

    init(registration: EntityKindRegistration<Rules>, context: KindContext) {
        self.registration = registration
        partitioner = context.partitioner
        maxFencedRetries = context.maxFencedRetries
        logger = context.logger
        let served = context.served
        let log = context.log
        // One counter for the kind's actors (a metrics backend's lookup is not free).
        let entriesCommitted = Counter(label: "parley_entity_entries_total", dimensions: [("kind", Rules.kind.name)])
        registries = context.partitioner.allPartitions.map { partition in
            EntityRegistry(refusal: { served.refusal(for: partition) }, generation: { log.generation(of: partition) }) { key in
                EntityActor<Host>(
                    entity: EntityID(kind: Rules.kind, key: key), partition: partition, registration: registration, context: context,
                    entriesCommitted: entriesCommitted)
            }
        }
    }

    var kind: EntityKind { Rules.kind }

    static var unreadableCommand: String { "command_unreadable" }

    func registry(_ entity: EntityID) -> EntityRegistry<EntityActor<Host>> {
        registries[Int(partitioner.partition(of: entity).rawValue)]
    }

    /// Runs `command` here, deciding again on a fresh activation when it was only fenced.
    func run(_ command: Rules.Command, on entity: EntityID, caller: Caller, origin: EffectOrigin?) async throws(RuntimeError) -> Host.Answer {
        try await retryingFenced(entity.description, maxRetries: maxFencedRetries, logger: logger) { () async throws(RuntimeError) -> Host.Answer in
            try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) -> Host.Answer in
                try await actor.handle(command, caller: caller, origin: origin)
            }
        }
    }

    func command(_ entity: EntityID, _ payload: [UInt8], caller: Caller, origin: EffectOrigin?, answer: CallAnswer) async throws(RuntimeError) -> [UInt8] {
        let command: Rules.Command
        do {
            command = try Rules.Command.decode(payload)
        } catch {
            throw .internalFailure(code: Self.unreadableCommand, message: "a \(Rules.kind) command could not be read: \(error.message)")
        }
        let outcome = try await run(command, on: entity, caller: caller, origin: origin)
        switch answer {
        case .none: return []
        case .state: return Host.state(of: outcome).encoded
        case .outcome: return Host.encode(outcome, brief: false)
        case .briefOutcome: return Host.encode(outcome, brief: true)
        }
    }

    func read(_ entity: EntityID, name: String, caller: Caller, payload: [UInt8], runtime: NodeRuntime) async throws(RuntimeError) -> [UInt8] {
        switch name {
        case "":
            return try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) -> Rules in
                try await actor.read(by: caller)
            }.encoded
        case "soft":
            return try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) -> [UInt8]? in
                try await actor.softView(by: caller)
            } ?? []
        default:
            if let operation = registration.operations[name] { return try await operation.run(runtime, entity, caller, payload) }
            let read = try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) -> [UInt8]? in
                try await actor.hostRead(name, payload: payload, by: caller)
            }
            guard let read else { throw .rejected(DomainError(.invalidArgument, "\(Rules.kind) has no read named \(name)")) }
            return read
        }
    }

    func isLinearizable(read name: String) -> Bool { registration.operations[name]?.linearizable ?? true }

    func fireTimer(_ entity: EntityID, tag: String, deadline: Timestamp) async throws(RuntimeError) {
        try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) in
            try await actor.fire(tag, deadline: deadline)
        }
    }

    func applyEffects(_ entity: EntityID, _ commands: [EffectCommand]) async throws(RuntimeError) {
        let decoded = commands.map { ($0.origin, try? Rules.Command.decode($0.payload)) }
        try await retryingFenced(entity.description, maxRetries: maxFencedRetries, logger: logger) { () async throws(RuntimeError) in
            try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) in
                try await actor.handleEffects(decoded)
            }
        }
    }

    /// The entity's committed state, read here (for special reads on the serving node).
    func state(of entity: EntityID, caller: Caller) async throws(RuntimeError) -> Rules {
        try await registry(entity).withEntity(entity.key) { (actor) async throws(RuntimeError) -> Rules in try await actor.read(by: caller) }
    }

    func passivateIdle(now: ContinuousClock.Instant, idleFor: Duration) -> Int {
        registries.reduce(0) { $0 + $1.passivateIdle(now: now, idleFor: idleFor) }
    }

    var activeCount: Int { registries.reduce(0) { $0 + $1.activeCount } }
}

import ParleyCluster
import ParleyDomain
import Synchronization

/// The actor of one entity whose rules are an `EntityStateMachine` (staff accounts,
/// channels): decides each command against its state, appends the events to the partition
/// log, answers once they are committed, then publishes them.
actor StateMachineActor<Machine: EntityStateMachine>: ActivatedEntity {
    /// How the actor reaches storage and the rest of the node; one per entity kind.
    struct Wiring: Sendable {
        /// Reads the entity's applied state.
        let load: @Sendable (String) throws(RuntimeError) -> Machine
        /// The log entry carrying one command's events.
        let envelope: @Sendable (String, [Machine.Event]) -> EntityEnvelope
        /// Where committed events go to be seen live.
        let publish: @Sendable ([Machine.Event], Machine) -> Void
    }

    let key: String
    let partition: PartitionID
    private let wiring: Wiring
    private let log: any PartitionLog
    private let clock: any WallClock
    private var state: Machine?
    /// The state as of the last committed command: what reads see. `state` runs ahead of it
    /// by the commands still committing (decided on top of each other), which a crash of
    /// the leader could still take back.
    private var committedState: Machine?
    /// Commands decided and committed, counted, so a commit that resumes late never moves
    /// `committedState` back.
    private var decidedCount: UInt64 = 0
    private var committedCount: UInt64 = 0
    private var generation: UInt64 = 0
    private let retired = Atomic<Bool>(false)

    nonisolated var isRetired: Bool { retired.load(ordering: .acquiring) }

    init(key: String, partition: PartitionID, wiring: Wiring, log: any PartitionLog, clock: any WallClock) {
        self.key = key
        self.partition = partition
        self.wiring = wiring
        self.log = log
        self.clock = clock
    }

    func handle(_ command: Machine.Command) async throws(RuntimeError) -> Machine {
        let current = try activeState()
        let events: [Machine.Event]
        do {
            events = try current.decide(command, now: clock.now())
        } catch {
            throw .rejected(error)
        }
        guard !events.isEmpty else { return current }
        var next = current
        for event in events { next.apply(event) }
        state = next
        decidedCount += 1
        let number = decidedCount
        let ticket = log.append(wiring.envelope(key, events).encoded(), to: partition, generation: generation)
        do {
            _ = try await ticket.result()
        } catch {
            retired.store(true, ordering: .releasing)
            state = nil
            committedState = nil
            throw .log(error)
        }
        if number > committedCount {
            committedCount = number
            committedState = next
        }
        wiring.publish(events, next)
        return next
    }

    /// The entity as committed (never state a failover could take back).
    func current() throws(RuntimeError) -> Machine {
        let active = try activeState()
        return committedState ?? active
    }

    private func activeState() throws(RuntimeError) -> Machine {
        if let state { return state }
        guard !isRetired else { throw .unavailable(code: RuntimeError.entityRetired, message: "\(key) is being reactivated") }
        generation = log.generation(of: partition)
        let loaded = try wiring.load(key)
        state = loaded
        committedState = loaded
        return loaded
    }
}

typealias StaffActor = StateMachineActor<StaffState>
typealias ChannelActor = StateMachineActor<ChannelState>

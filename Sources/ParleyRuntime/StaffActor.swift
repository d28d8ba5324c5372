import ParleyCluster
import ParleyDomain
import Synchronization

/// The actor of one staff account.
actor StaffActor: ActivatedEntity {
    let id: StaffID
    let partition: PartitionID
    private let store: StaffStore
    private let log: any PartitionLog
    private let clock: any WallClock
    private let sink: any StaffEventSink
    private var state: StaffState?
    private var generation: UInt64 = 0
    private let retired = Atomic<Bool>(false)

    nonisolated var isRetired: Bool { retired.load(ordering: .acquiring) }

    init(id: StaffID, partition: PartitionID, store: StaffStore, log: any PartitionLog, clock: any WallClock, sink: any StaffEventSink) {
        self.sink = sink
        self.id = id
        self.partition = partition
        self.store = store
        self.log = log
        self.clock = clock
    }

    func handle(_ command: StaffCommand) async throws(RuntimeError) -> StaffState {
        let current = try activeState()
        let events: [StaffEvent]
        do {
            events = try current.decide(command, now: clock.now())
        } catch {
            throw .rejected(error)
        }
        guard !events.isEmpty else { return current }
        var next = current
        for event in events { next.apply(event) }
        state = next
        let ticket = log.append(EntityEnvelope.staff(id, events).encoded(), to: partition, generation: generation)
        do {
            _ = try await ticket.result()
        } catch {
            retired.store(true, ordering: .releasing)
            state = nil
            throw .log(error)
        }
        sink.publish(events, staff: next)
        return next
    }

    func current() throws(RuntimeError) -> StaffState { try activeState() }

    private func activeState() throws(RuntimeError) -> StaffState {
        if let state { return state }
        guard !isRetired else { throw .unavailable(code: RuntimeError.entityRetired, message: "staff \(id) is being reactivated") }
        generation = log.generation(of: partition)
        let loaded = try store.load(id)
        state = loaded
        return loaded
    }
}

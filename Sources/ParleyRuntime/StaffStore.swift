import ParleyCluster
import ParleyDomain
import ParleyStorage
import Synchronization

/// A staff account's applied state: `p` the profile, `t` the token hash.
struct StaffStore: Sendable {
    let database: Database
    let family: ColumnFamily
    let partitioner: Partitioner

    private static func key(_ partition: PartitionID, _ staff: StaffID, _ record: UInt8) -> [UInt8] {
        StateKeys.entityPrefix(partition, EntityID(kind: .staff, key: staff.rawValue)) + [record]
    }

    private static let profile: UInt8 = 0x70  // p
    private static let token: UInt8 = 0x74  // t

    static func addWrites(for events: [StaffEvent], of staff: StaffID, in partition: PartitionID, to writes: inout StateWrites) {
        for event in events {
            switch event {
            case let .created(profile, tokenHash):
                var writer = BinaryWriter()
                profile.encode(into: &writer)
                writes.put(key(partition, staff, Self.profile), writer.bytes)
                writes.put(key(partition, staff, Self.token), tokenHash)
            case let .tokenRotated(tokenHash, _):
                writes.put(key(partition, staff, Self.token), tokenHash)
            }
        }
    }

    func partition(of staff: StaffID) -> PartitionID {
        partitioner.partition(for: EntityID(kind: .staff, key: staff.rawValue).description)
    }

    func load(_ staff: StaffID) throws(RuntimeError) -> StaffState {
        let partition = partition(of: staff)
        do {
            guard let rawProfile = try database.get(Self.key(partition, staff, Self.profile), in: family) else { return StaffState(id: staff) }
            var reader = BinaryReader(rawProfile)
            let profile = try StaffProfile.decode(from: &reader)
            let hash = try database.get(Self.key(partition, staff, Self.token), in: family) ?? []
            return StaffState(id: staff, profile: profile, tokenHash: hash)
        } catch let error as StorageError {
            throw .storage(error)
        } catch let error as DecodingError {
            throw .decoding(error)
        } catch {
            throw .internalFailure(code: "staff_read_failed", message: "\(error)")
        }
    }
}

/// The actor of one staff account.
actor StaffActor: ActivatedEntity {
    let id: StaffID
    let partition: PartitionID
    private let store: StaffStore
    private let log: any PartitionLog
    private let clock: any WallClock
    private var state: StaffState?
    private var generation: UInt64 = 0
    private let retired = Atomic<Bool>(false)

    nonisolated var isRetired: Bool { retired.load(ordering: .acquiring) }

    init(id: StaffID, partition: PartitionID, store: StaffStore, log: any PartitionLog, clock: any WallClock) {
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

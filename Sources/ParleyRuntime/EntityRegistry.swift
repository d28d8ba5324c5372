import Synchronization

/// An entity actor the registry can hand out and passivate.
public protocol ActivatedEntity: AnyObject, Sendable {
    /// True once the entity's in-memory state can no longer be trusted (a commit failed or was
    /// fenced); the registry then activates a fresh one from the applied state.
    var isRetired: Bool { get }
}

/// The active entities of one kind on one partition. An entity is activated on first use and
/// passivated once no command has held it for the idle time; a command for a passivated
/// entity activates a new one from the applied state. Lookups are synchronous (a mutex, no
/// actor hop) so they cost little on the hot path.
public final class EntityRegistry<Entity: ActivatedEntity>: Sendable {
    struct Slot {
        var entity: Entity
        var leases: Int
        var lastUsed: ContinuousClock.Instant
        /// The partition's generation when the entity was activated.
        var generation: UInt64
    }

    private let slots = Mutex<[String: Slot]>([:])
    private let activate: @Sendable (String) -> Entity
    /// Asked at every command: the error to refuse it with while another node serves the
    /// partition, nil while this node does.
    private let refusal: @Sendable () -> RuntimeError?
    /// Asked at every command: the partition's generation (its leader's term). An entity
    /// activated under another generation is never used again: a fresh one loads the applied
    /// state, so no command decides on state from before a leadership change.
    private let generation: @Sendable () -> UInt64

    /// - Parameters:
    ///   - refusal: the error for every command while the partition is served elsewhere.
    ///   - generation: the partition's current generation.
    ///   - activate: makes the entity for a key; it loads its state lazily.
    public init(
        refusal: @escaping @Sendable () -> RuntimeError? = { nil }, generation: @escaping @Sendable () -> UInt64 = { 0 },
        activate: @escaping @Sendable (String) -> Entity
    ) {
        self.refusal = refusal
        self.generation = generation
        self.activate = activate
    }

    /// Runs `body` with the entity for `key`, activating it if needed; while `body` runs the
    /// entity cannot be passivated.
    public func withEntity<R>(
        _ key: String,
        now: ContinuousClock.Instant = .now,
        _ body: (Entity) async throws(RuntimeError) -> R
    ) async throws(RuntimeError) -> R {
        if let refusal = refusal() { throw refusal }
        let entity = lease(key, now: now)
        defer { release(key, entity) }
        return try await body(entity)
    }

    func lease(_ key: String, now: ContinuousClock.Instant) -> Entity {
        let current = generation()
        return slots.withLock { slots in
            if var slot = slots[key], !slot.entity.isRetired, slot.generation == current {
                slot.leases += 1
                slot.lastUsed = now
                slots[key] = slot
                return slot.entity
            }
            let entity = activate(key)
            slots[key] = Slot(entity: entity, leases: 1, lastUsed: now, generation: current)
            return entity
        }
    }

    func release(_ key: String, _ entity: Entity) {
        let now = ContinuousClock.now
        slots.withLock { slots in
            guard var slot = slots[key], slot.entity === entity else { return }
            slot.leases -= 1
            slot.lastUsed = now
            slots[key] = slot
        }
    }

    /// Passivates every entity that no command holds and none has used since
    /// `now - idleFor`, and every retired one no command holds. Returns how many went.
    @discardableResult
    public func passivateIdle(now: ContinuousClock.Instant, idleFor: Duration) -> Int {
        slots.withLock { slots in
            let idle = slots.filter { _, slot in
                slot.leases == 0 && (slot.entity.isRetired || now - slot.lastUsed >= idleFor)
            }
            for key in idle.keys { slots[key] = nil }
            return idle.count
        }
    }

    /// Drops every entity (used when the partition leaves this node).
    @discardableResult
    public func passivateAll() -> Int {
        slots.withLock { slots in
            defer { slots.removeAll() }
            return slots.count
        }
    }

    /// How many entities are active.
    public var activeCount: Int { slots.withLock { $0.count } }

    /// Whether the entity for `key` is active.
    public func isActive(_ key: String) -> Bool { slots.withLock { $0[key] != nil } }
}

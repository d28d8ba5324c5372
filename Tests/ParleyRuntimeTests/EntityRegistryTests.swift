import Synchronization
import Testing

@testable import ParleyRuntime

final class Probe: ActivatedEntity {
    let key: String
    let retired = Atomic<Bool>(false)
    var isRetired: Bool { retired.load(ordering: .relaxed) }
    init(key: String) { self.key = key }
}

@Suite("Entity registry")
struct EntityRegistryTests {
    @Test func activatesOncePerKeyAndPassivatesOnlyIdleUnheldEntities() async {
        let activations = Atomic<Int>(0)
        let registry = EntityRegistry<Probe> { key in
            activations.add(1, ordering: .relaxed)
            return Probe(key: key)
        }
        let start = ContinuousClock.now
        let first = registry.lease("a", now: start)
        let again = registry.lease("a", now: start)
        #expect(first === again)
        #expect(activations.load(ordering: .relaxed) == 1)
        // Held entities are never passivated, however old.
        #expect(registry.passivateIdle(now: start + .seconds(3_600), idleFor: .seconds(1)) == 0)
        registry.release("a", first)
        registry.release("a", again)
        #expect(registry.passivateIdle(now: .now, idleFor: .seconds(60)) == 0)
        #expect(registry.passivateIdle(now: .now + .seconds(61), idleFor: .seconds(60)) == 1)
        #expect(registry.activeCount == 0)
        let fresh = registry.lease("a", now: .now)
        #expect(fresh !== first)
        #expect(activations.load(ordering: .relaxed) == 2)
    }

    @Test func retiredEntitiesAreReplacedOnNextUse() async throws {
        let registry = EntityRegistry<Probe> { Probe(key: $0) }
        let probe = try await registry.withEntity("k") { $0 }
        probe.retired.store(true, ordering: .relaxed)
        let replacement = try await registry.withEntity("k") { $0 }
        #expect(replacement !== probe)
        #expect(registry.activeCount == 1)
        #expect(registry.passivateAll() == 1)
    }
}

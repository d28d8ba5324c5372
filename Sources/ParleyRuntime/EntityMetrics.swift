import Metrics
import ParleyDomain
import Synchronization

/// Counters by entity kind, made once per kind (a metrics backend's lookup is not free) and
/// shared by every actor of the kind.
enum EntityMetrics {
    private static let entries = Mutex<[String: Counter]>([:])

    /// Log entries this node's actors of `kind` appended (as partition leader): decisions,
    /// timer drops and kinds' own entries. Where a workload's replicated writes go.
    static func entriesAppended(by kind: EntityKind) -> Counter {
        entries.withLock { counters in
            if let counter = counters[kind.name] { return counter }
            let counter = Counter(label: "parley_entity_entries_total", dimensions: [("kind", kind.name)])
            counters[kind.name] = counter
            return counter
        }
    }
}

import ParleyDomain
import Synchronization

/// Recent previews and failures by URL, least recently used evicted first; entries expire
/// (failures sooner, so a page that was down is tried again).
final class LinkPreviewCache: Sendable {
    typealias Outcome = Result<LinkPreview, LinkPreviewError>

    private struct Entry {
        var outcome: Outcome
        var expires: ContinuousClock.Instant
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var uses: UInt64 = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let lifetime: Duration
    let failureLifetime: Duration

    init(capacity: Int, lifetime: Duration, failureLifetime: Duration) {
        self.capacity = max(capacity, 1)
        self.lifetime = lifetime
        self.failureLifetime = failureLifetime
    }

    func outcome(for url: String, now: ContinuousClock.Instant = .now) -> Outcome? {
        state.withLock { state in
            guard var entry = state.entries[url] else { return nil }
            guard entry.expires > now else {
                state.entries[url] = nil
                return nil
            }
            state.uses += 1
            entry.lastUse = state.uses
            state.entries[url] = entry
            return entry.outcome
        }
    }

    func store(_ outcome: Outcome, for url: String, now: ContinuousClock.Instant = .now) {
        let expires: ContinuousClock.Instant
        switch outcome {
        case .success: expires = now + lifetime
        case .failure: expires = now + failureLifetime
        }
        state.withLock { state in
            state.uses += 1
            state.entries[url] = Entry(outcome: outcome, expires: expires, lastUse: state.uses)
            if state.entries.count > capacity {
                // Evict the least recently used eighth at once, so eviction stays rare.
                let victims = state.entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(capacity / 8, 1))
                for (key, _) in victims { state.entries[key] = nil }
            }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}

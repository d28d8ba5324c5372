import ParleyDomain
import Testing

@testable import ParleyGateway

/// Credentials of accounts another node serves are trusted for their lifetime only.
@Suite("Credential cache")
struct CredentialCacheTests {
    let staff = StaffID(unchecked: "bo")

    @Test func credentialsLastTheirLifetimeAndCanBeForgotten() {
        let cache = CredentialCache(lifetime: .seconds(2))
        let start = ContinuousClock.now
        cache.store(staff, tokenHash: [1, 2, 3], role: .agent, now: start)
        #expect(cache.credentials(of: staff, now: start + .seconds(1))?.tokenHash == [1, 2, 3])
        #expect(cache.credentials(of: staff, now: start + .seconds(1))?.role == .agent)
        #expect(cache.credentials(of: staff, now: start + .seconds(2)) == nil)  // expired, and dropped
        #expect(cache.credentials(of: staff, now: start) == nil)
        cache.store(staff, tokenHash: [4], role: .admin, now: start)
        cache.forget(staff)
        #expect(cache.credentials(of: staff, now: start) == nil)
    }

    @Test func aFullCacheStartsAfresh() {
        let cache = CredentialCache(lifetime: .seconds(60), capacity: 2)
        let now = ContinuousClock.now
        for name in ["a", "b", "c"] { cache.store(StaffID(unchecked: name), tokenHash: [0], role: .agent, now: now) }
        #expect(cache.credentials(of: StaffID(unchecked: "a"), now: now) == nil)
        #expect(cache.credentials(of: StaffID(unchecked: "c"), now: now) != nil)
    }
}

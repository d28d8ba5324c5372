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
        #expect(cache.credentials(of: staff, now: start + .seconds(2)) == nil)  // expired
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

    /// While an account's partition cannot answer, its last known credentials (of an account
    /// this node serves too) stand in for up to the outage grace, and never after a rotation.
    @Test func lastKnownCredentialsStandInForAnOutageGraceOnly() {
        let cache = CredentialCache(lifetime: .seconds(2), outageGrace: .seconds(60))
        let start = ContinuousClock.now
        cache.store(staff, tokenHash: [7], role: .agent, remote: false, now: start)
        #expect(cache.credentials(of: staff, now: start) == nil, "an account served here is always read afresh")
        #expect(cache.lastKnown(of: staff, now: start + .seconds(59))?.tokenHash == [7])
        #expect(cache.lastKnown(of: staff, now: start + .seconds(60)) == nil)
        #expect(cache.lastKnown(of: staff, now: start) == nil, "dropped once past the grace")
        cache.store(staff, tokenHash: [8], role: .admin, now: start)
        #expect(cache.credentials(of: staff, now: start + .seconds(1))?.role == .admin)
        #expect(cache.credentials(of: staff, now: start + .seconds(3)) == nil)
        #expect(cache.lastKnown(of: staff, now: start + .seconds(3))?.tokenHash == [8])
        cache.forget(staff)
        #expect(cache.lastKnown(of: staff, now: start) == nil)
    }
}

import ParleyCluster
import Testing

@testable import ParleyRuntime

/// The retry rules of calls on replicated partitions, alone: only "not here, not now"
/// refusals are retried, the pauses double up to a ceiling, no retry starts past the deadline,
/// and each retry moves on to the next replica.
@Suite("Failover retries")
struct FailoverRetriesTests {
    @Test func failoverRefusalsAreRetriedWithDoublingPausesUpToTheCeiling() {
        let start = ContinuousClock.now
        var retries = FailoverRetries(deadline: start + .seconds(10))
        var pauses: [Duration] = []
        for code in [ClusterError.Code.notLeader.rawValue, RuntimeError.partitionElsewhere, ClusterError.Code.peerUnavailable.rawValue,
                     ClusterError.Code.stale.rawValue, RuntimeError.entityRetired, ClusterError.Code.shuttingDown.rawValue]
        {
            guard case let .retry(pause) = retries.next(afterRefusal: code, at: start) else {
                Issue.record("\(code) was not retried")
                return
            }
            pauses.append(pause)
        }
        #expect(pauses == [10, 20, 40, 80, 160, 160].map { Duration.milliseconds($0) })
        #expect(retries.turn == 6)
    }

    @Test func aNodeIsCutOffOnlyWhenItsLeaderIsDownAndNoMajorityIsReachable() {
        // Three replicas: two reachable (itself and one peer) can still elect; one cannot.
        #expect(FailoverRetries.isCutOff(leaderUp: false, replicas: 3, reachable: 1))
        #expect(FailoverRetries.isCutOff(leaderUp: nil, replicas: 3, reachable: 0))
        #expect(!FailoverRetries.isCutOff(leaderUp: false, replicas: 3, reachable: 2))
        // A reachable leader may still answer (its majority may be one this node cannot see).
        #expect(!FailoverRetries.isCutOff(leaderUp: true, replicas: 3, reachable: 1))
        #expect(FailoverRetries.isCutOff(leaderUp: false, replicas: 5, reachable: 2))
        #expect(!FailoverRetries.isCutOff(leaderUp: nil, replicas: 5, reachable: 3))
        #expect(!FailoverRetries.isCutOff(leaderUp: nil, replicas: 0, reachable: 0))
    }

    @Test func otherRefusalsFailAtOnceAndNothingIsRetriedPastTheDeadline() {
        let start = ContinuousClock.now
        var retries = FailoverRetries(deadline: start + .milliseconds(100))
        #expect(retries.next(afterRefusal: "message_not_found", at: start) == .fail)
        #expect(retries.next(afterRefusal: ClusterError.Code.storageFailure.rawValue, at: start) == .fail)
        #expect(retries.turn == 0)
        #expect(retries.next(afterRefusal: ClusterError.Code.notLeader.rawValue, at: start) == .retry(after: .milliseconds(10)))
        // The next pause (20 ms) would end past the deadline.
        #expect(retries.next(afterRefusal: ClusterError.Code.notLeader.rawValue, at: start + .milliseconds(85)) == .fail)
        #expect(retries.next(afterRefusal: ClusterError.Code.notLeader.rawValue, at: start + .milliseconds(70)) == .retry(after: .milliseconds(20)))
    }
}

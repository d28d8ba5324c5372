import ParleyRaft
import Testing

@testable import ParleyCluster

/// The driver's plan for a round of Readies: what needs an fsync and what does not, which
/// overwritten entries are deleted, and whose messages may go out before the write.
@Suite("Ready round plan")
struct ReadyRoundPlanTests {
    static func input(
        leads: Bool = false, _ ready: Ready, persistedLastIndex: UInt64 = 0, persistedHardState: HardState = HardState(term: 2, vote: 1, commit: 4)
    ) -> ReadyRoundPlan.Input {
        ReadyRoundPlan.Input(leads: leads, ready: ready, persistedLastIndex: persistedLastIndex, persistedHardState: persistedHardState)
    }

    static func entries(_ indexes: ClosedRange<UInt64>, term: UInt64 = 2) -> [Entry] {
        indexes.map { Entry(term: term, index: $0, data: [UInt8($0 & 0xFF)]) }
    }

    @Test func newEntriesAreFsyncedAndAFollowersAnswersWaitForTheWrite() {
        let plan = ReadyRoundPlan([Self.input(Ready(entries: Self.entries(5...7)), persistedLastIndex: 4)])
        #expect(plan.durability == .fsync)
        #expect(plan.parts[0].entries.map(\.index) == [5, 6, 7])
        #expect(plan.parts[0].staleTail == nil)
        #expect(plan.parts[0].persistedLastIndex == 7)
        #expect(!plan.parts[0].sendsBeforeWrite)
    }

    @Test func aLeadersMessagesGoBeforeTheWriteUnlessItInstallsASnapshot() {
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 30, term: 3, voters: [1, 2, 3]), data: [])
        let plan = ReadyRoundPlan([
            Self.input(leads: true, Ready(entries: Self.entries(5...5))),
            Self.input(leads: true, Ready(snapshot: snapshot)),
            Self.input(leads: false, Ready(entries: Self.entries(9...9))),
        ])
        #expect(plan.parts.map(\.sendsBeforeWrite) == [true, false, false])
    }

    @Test func aCommitIndexAloneIsWrittenWithoutAnFsync() {
        let moved = HardState(term: 2, vote: 1, commit: 9)
        let plan = ReadyRoundPlan([Self.input(Ready(hardState: moved))])
        #expect(plan.durability == .buffered)
        #expect(plan.parts[0].hardState == moved)
        #expect(plan.parts[0].persistedHardState == moved)
    }

    @Test(arguments: [HardState(term: 3, vote: 1, commit: 4), HardState(term: 2, vote: 2, commit: 4)])
    func aNewTermOrVoteIsFsynced(_ changed: HardState) {
        let plan = ReadyRoundPlan([Self.input(Ready(hardState: changed))])
        #expect(plan.durability == .fsync)
    }

    @Test func entriesThatOverwriteALongerTailDeleteItsRest() {
        let plan = ReadyRoundPlan([Self.input(Ready(entries: Self.entries(6...7, term: 3)), persistedLastIndex: 12)])
        #expect(plan.parts[0].staleTail == 8...12)
        #expect(plan.parts[0].persistedLastIndex == 7)
    }

    @Test func aSnapshotIsFsyncedAndReplacesThePersistedEntries() {
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 30, term: 3, voters: [1, 2, 3]), data: [1])
        let plan = ReadyRoundPlan([Self.input(Ready(snapshot: snapshot, entries: Self.entries(31...32, term: 3)), persistedLastIndex: 40)])
        #expect(plan.durability == .fsync)
        #expect(plan.parts[0].installsSnapshot)
        // Entries after the snapshot extend it; the old tail went with the snapshot's install.
        #expect(plan.parts[0].staleTail == nil)
        #expect(plan.parts[0].persistedLastIndex == 32)
    }

    @Test func aRoundWithNothingToPersistWritesNothing() {
        let message = Message(kind: .heartbeat, to: 2)
        let plan = ReadyRoundPlan([
            Self.input(leads: true, Ready(messages: [message])),
            Self.input(Ready(committedEntries: Self.entries(3...4))),
        ])
        #expect(plan.durability == nil)
        #expect(plan.parts.map(\.persistedLastIndex) == [0, 0])
    }

    @Test func oneFsyncCoversEveryGroupOfTheRound() {
        let plan = ReadyRoundPlan([
            Self.input(Ready(hardState: HardState(term: 2, vote: 1, commit: 5))),
            Self.input(leads: true, Ready(entries: Self.entries(8...8)), persistedLastIndex: 7),
        ])
        #expect(plan.durability == .fsync)
        #expect(plan.parts.count == 2)
    }
}

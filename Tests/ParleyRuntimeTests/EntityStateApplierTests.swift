import ParleyDomain
import Testing

@testable import ParleyCluster
@testable import ParleyRuntime
@testable import ParleyStorage

/// Applying a room's log entry stores each event (in the journal) and each message version (in
/// its record) as the entry carries them, without encoding them again: the writes must be the
/// very ones encoding the decoded events would make, for every kind of event, both for the
/// entries rooms write now (`EntityEntry`, through the room kind's registration) and for the
/// version 1 envelopes a log may still replay. The room keeps its last event seq in its journal,
/// so the runtime writes no record of its own for it.
@Suite("Applying room entries")
struct EntityStateApplierTests {
    @Test(arguments: [false, true])
    func theWritesOfAnEntryAreThoseOfItsEventsEncodedAgain(legacy: Bool) throws {
        let bo = StaffID(unchecked: "bo")
        let room = RoomID(unchecked: "r_apply")
        let profile = RoomProfile(
            kind: .space, name: "Team", description: "d", visibility: .public, createdBy: bo, createdAt: Timestamp(milliseconds: 1_700_000_000_123))
        let posted = Message(seq: 1, author: bo, text: "hi 👋", postedAt: Timestamp(milliseconds: 5), idempotencyKey: "k")
        var edited = posted
        edited.text = "hello"
        edited.editedAt = Timestamp(milliseconds: 9)
        var recalled = edited
        recalled.text = ""
        let al = StaffID(unchecked: "al")
        var reply = Message(seq: 2, author: al, text: "@bo @all yes", postedAt: Timestamp(milliseconds: 11), idempotencyKey: nil)
        reply.mentions = [bo]
        reply.mentionsAll = true
        let information = RoomInformation(
            visitor: [RoomInformation.Field(name: "plan", value: "gold")], contact: ContactInfo(firstName: "Ann", email: "ann@example.com"))
        var renamed = profile
        renamed.name = "Team 2"
        let events: [RoomEvent] = [
            .created(profile, members: [bo]), .messagePosted(posted), .messageEdited(edited), .messagePreviewed(edited),
            .readPointerMoved(bo, seq: 1), .messageRecalled(recalled, removedFile: "f_1"),
            .membersAdded([al], by: bo, joinedAt: Timestamp(milliseconds: 10), readSeq: 1), .messagePosted(reply),
            .muteChanged(al, .mentionsOnly), .profileUpdated(renamed), .informationUpdated(information), .memberRemoved(al, by: bo),
            .messagePosted(Message(seq: 3, author: bo, text: "", postedAt: Timestamp(milliseconds: -1), idempotencyKey: nil)),
        ]
        let partition = PartitionID(3)
        let family = ColumnFamily(name: "state", index: 1)
        let payload =
            legacy
            ? EntityEnvelope.room(room, firstEventSeq: 40, events).encoded()
            : EntityEntry.encode(entity: .room(room), firstEventSeq: 40, events: events, effects: [], timers: [], origins: [])

        var applied = StateWrites(family: family)
        try EntityStateApplier().apply(LogEntry(partition: partition, index: 7, generation: 1, payload: payload), to: &applied)
        var encodedAgain = StateWrites(family: family)
        RoomStore.addWrites(for: events, firstEventSeq: 40, of: room, in: partition, to: &encodedAgain)

        #expect(applied.batch.count == encodedAgain.batch.count)
        #expect(applied.batch.buffer == encodedAgain.batch.buffer)
        // And the message record reads back as the message.
        var messages: [Message] = []
        applied.batch.forEachOperation { tag, _, key, value in
            guard tag == .put, Array(key) == RoomStore.key(partition, room, .message, StateKeys.bigEndian(1)) else { return }
            var reader = BinaryReader(Array(value))
            if let message = try? Message.decode(from: &reader) { messages.append(message) }
        }
        #expect(messages == [posted, edited, edited, recalled])
    }
}

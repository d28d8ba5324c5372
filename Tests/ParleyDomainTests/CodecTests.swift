import Testing

@testable import ParleyDomain

@Suite("Binary codec")
struct CodecTests {
    @Test func primitivesRoundTrip() throws {
        var writer = BinaryWriter()
        writer.write(UInt8(7))
        writer.write(true)
        writer.write(UInt16(0xBEEF))
        writer.write(UInt64.max)
        writer.write(Int64(-42))
        for value: UInt64 in [0, 127, 128, 300, UInt64.max] { writer.writeVarint(value) }
        writer.write("héllo ✓")
        writer.write(String?.none)
        writer.write(String?.some("x"))
        writer.write(["a", "", "ccc"])
        writer.write(bytes: [1, 2, 3])
        var reader = BinaryReader(writer.bytes)
        #expect(try reader.readUInt8() == 7)
        #expect(try reader.readBool() == true)
        #expect(try reader.readUInt16() == 0xBEEF)
        #expect(try reader.readUInt64() == UInt64.max)
        #expect(try reader.readInt64() == -42)
        for value: UInt64 in [0, 127, 128, 300, UInt64.max] { #expect(try reader.readVarint() == value) }
        #expect(try reader.readString() == "héllo ✓")
        #expect(try reader.readOptionalString() == nil)
        #expect(try reader.readOptionalString() == "x")
        #expect(try reader.readStrings() == ["a", "", "ccc"])
        #expect(try reader.readBytes() == [1, 2, 3])
        try reader.expectEnd()
    }

    @Test func truncatedAndMalformedInputIsRefused() {
        var writer = BinaryWriter()
        writer.write("a long enough string")
        for cut in 0..<writer.bytes.count {
            var reader = BinaryReader(Array(writer.bytes.prefix(cut)))
            #expect(throws: DecodingError.self) { try reader.readString() }
        }
        var badBool = BinaryReader([2])
        #expect(throws: DecodingError.self) { try badBool.readBool() }
        var hugeLength = BinaryReader([0xFF, 0xFF, 0xFF, 0x0F])
        #expect(throws: DecodingError.self) { try hugeLength.readString() }
        var badUTF8 = BinaryReader([2, 0xC3, 0x28])
        #expect(throws: DecodingError.self) { try badUTF8.readString() }
        var endless = BinaryReader(Array(repeating: 0xFF, count: 11))
        #expect(throws: DecodingError.self) { try endless.readVarint() }
        let trailing = BinaryReader([1])
        #expect(throws: DecodingError.self) { try trailing.expectEnd() }
    }

    @Test func roomEventsRoundTrip() throws {
        let profile = RoomProfile(
            kind: .space, name: "Team", description: "d", visibility: .public,
            createdBy: StaffID(unchecked: "admin"), createdAt: Timestamp(milliseconds: 1_700_000_000_123))
        let events: [RoomEvent] = [
            .created(profile, members: [StaffID(unchecked: "admin"), StaffID(unchecked: "bo")]),
            .messagePosted(Message(seq: 9, author: StaffID(unchecked: "bo"), text: "hi 👋", postedAt: Timestamp(milliseconds: 5), idempotencyKey: "k")),
            .messagePosted(Message(seq: 10, author: StaffID(unchecked: "bo"), text: "", postedAt: Timestamp(milliseconds: -1), idempotencyKey: nil)),
        ]
        for event in events {
            var writer = BinaryWriter()
            event.encode(into: &writer)
            var reader = BinaryReader(writer.bytes)
            #expect(try RoomEvent.decode(from: &reader) == event)
            try reader.expectEnd()
        }
        var unknown = BinaryReader([99])
        #expect(throws: DecodingError.self) { try RoomEvent.decode(from: &unknown) }
    }

    @Test func identifiersAreValidated() {
        #expect(RoomID(rawValue: "r_abc-1.2") != nil)
        #expect(RoomID(rawValue: "") == nil)
        #expect(RoomID(rawValue: "has space") == nil)
        #expect(RoomID(rawValue: "slash/") == nil)
        #expect(RoomID(rawValue: String(repeating: "a", count: 65)) == nil)
        let random = RoomID.random(prefix: "r_")
        #expect(RoomID.isValid(random.rawValue))
        #expect(random != RoomID.random(prefix: "r_"))
        #expect(EntityID.room(RoomID(unchecked: "x")).description == "room/x")
    }
}

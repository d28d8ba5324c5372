/// The binary form of staff commands and accounts, as nodes forward them to the node serving
/// the account. Tags and field order are part of the peer protocol: add, never renumber.
extension StaffCommand {
    private enum Tag: UInt8 {
        case create = 1
        case rotateToken = 2
        case deliver = 3
        case setShortcut = 4
        case removeShortcut = 5
        case deliverAll = 6
        case setAvailability = 7
        case setCapacity = 8
        case noteEnquiry = 9
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .create(displayName, role, tokenHash):
            writer.write(Tag.create.rawValue)
            writer.write(displayName)
            writer.write(role.rawValue)
            writer.write(bytes: tokenHash)
        case let .rotateToken(tokenHash):
            writer.write(Tag.rotateToken.rawValue)
            writer.write(bytes: tokenHash)
        case let .deliver(room, eventSeq, notices):
            writer.write(Tag.deliver.rawValue)
            writer.write(room.rawValue)
            writer.writeVarint(eventSeq)
            writer.writeVarint(UInt64(notices.count))
            for notice in notices { notice.encode(into: &writer) }
        case let .deliverAll(deliveries):
            writer.write(Tag.deliverAll.rawValue)
            writer.writeVarint(UInt64(deliveries.count))
            for delivery in deliveries {
                writer.write(delivery.room.rawValue)
                writer.writeVarint(delivery.eventSeq)
                writer.writeVarint(UInt64(delivery.notices.count))
                for notice in delivery.notices { notice.encode(into: &writer) }
            }
        case let .setShortcut(shortcut):
            writer.write(Tag.setShortcut.rawValue)
            shortcut.encode(into: &writer)
        case let .removeShortcut(code):
            writer.write(Tag.removeShortcut.rawValue)
            writer.write(code)
        case let .setAvailability(availability):
            writer.write(Tag.setAvailability.rawValue)
            writer.write(availability.rawValue)
        case let .setCapacity(capacity):
            writer.write(Tag.setCapacity.rawValue)
            writer.writeVarint(UInt64(max(0, capacity)))
        case let .noteEnquiry(notice):
            writer.write(Tag.noteEnquiry.rawValue)
            notice.encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffCommand {
        switch try reader.read(Tag.self, "staff command tag") {
        case .create:
            let name = try reader.readString()
            let role = try reader.read(StaffRole.self, "staff role")
            return .create(displayName: name, role: role, tokenHash: try reader.readBytes())
        case .rotateToken:
            return .rotateToken(tokenHash: try reader.readBytes())
        case .deliver:
            let room = RoomID(unchecked: try reader.readString())
            let eventSeq = try reader.readVarint()
            let count = try reader.readCount(atMost: 100_000, of: "notices")
            let notices = try (0..<count).map { _ throws(DecodingError) in try StaffNotice.decode(from: &reader) }
            return .deliver(room: room, eventSeq: eventSeq, notices: notices)
        case .deliverAll:
            let count = try reader.readCount(atMost: 100_000, of: "deliveries")
            let deliveries = try (0..<count).map { _ throws(DecodingError) -> StaffDelivery in
                let room = RoomID(unchecked: try reader.readString())
                let eventSeq = try reader.readVarint()
                let notices = try (0..<(try reader.readCount(atMost: 100_000, of: "notices"))).map { _ throws(DecodingError) in
                    try StaffNotice.decode(from: &reader)
                }
                return StaffDelivery(room: room, eventSeq: eventSeq, notices: notices)
            }
            return .deliverAll(deliveries)
        case .setShortcut:
            return .setShortcut(try Shortcut.decode(from: &reader))
        case .removeShortcut:
            return .removeShortcut(code: try reader.readString())
        case .setAvailability:
            return .setAvailability(try reader.read(Availability.self, "availability"))
        case .setCapacity:
            return .setCapacity(try reader.readCount(atMost: Int(Int32.max), of: "capacity"))
        case .noteEnquiry:
            return .noteEnquiry(try EnquiryNotice.decode(from: &reader))
        }
    }
}

extension StaffState {
    /// Rooms and shortcuts are written in key order, so equal accounts encode to equal bytes.
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id.rawValue)
        writer.write(profile != nil)
        profile?.encode(into: &writer)
        writer.write(bytes: tokenHash)
        writer.writeVarint(mentionCount)
        writer.writeVarint(UInt64(rooms.count))
        for (room, entry) in rooms.sorted(by: { $0.key < $1.key }) {
            writer.write(room.rawValue)
            entry.encode(into: &writer)
        }
        writer.writeVarint(UInt64(shortcuts.count))
        for (_, shortcut) in shortcuts.sorted(by: { $0.key < $1.key }) { shortcut.encode(into: &writer) }
        // Added with enquiries: read only when present, so older encodings still decode.
        writer.write(availability.rawValue)
        writer.writeVarint(UInt64(capacity))
        writer.write(enquiries.map(\.rawValue).sorted())
        writer.writeVarint(UInt64(offers.count))
        for (_, note) in offers.sorted(by: { $0.key < $1.key }) { note.encode(into: &writer) }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffState {
        let id = StaffID(unchecked: try reader.readString())
        let profile = try reader.readBool() ? try StaffProfile.decode(from: &reader) : nil
        let tokenHash = try reader.readBytes()
        let mentionCount = try reader.readVarint()
        var rooms: [RoomID: StaffRoomEntry] = [:]
        for _ in 0..<(try reader.readCount(atMost: 10_000_000, of: "rooms")) {
            let room = RoomID(unchecked: try reader.readString())
            rooms[room] = try StaffRoomEntry.decode(from: &reader)
        }
        var shortcuts: [String: Shortcut] = [:]
        for _ in 0..<(try reader.readCount(atMost: maxShortcuts, of: "shortcuts")) {
            let shortcut = try Shortcut.decode(from: &reader)
            shortcuts[shortcut.code] = shortcut
        }
        var state = StaffState(id: id, profile: profile, tokenHash: tokenHash, rooms: rooms, mentionCount: mentionCount, shortcuts: shortcuts)
        if !reader.isAtEnd {
            state.availability = try reader.read(Availability.self, "availability")
            state.capacity = try reader.readCount(atMost: StaffStatus.maxCapacity, of: "capacity")
            state.enquiries = Set(try reader.readStrings().map(EnquiryID.init(unchecked:)))
            for _ in 0..<(try reader.readCount(atMost: 10_000_000, of: "offers")) {
                let note = try EnquiryOfferNote.decode(from: &reader)
                state.offers[note.enquiry] = note
            }
        }
        return state
    }
}

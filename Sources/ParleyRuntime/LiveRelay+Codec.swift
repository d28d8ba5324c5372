import ParleyCluster
import ParleyDomain

/// The binary form of live fan-out between nodes: interest messages (with their answers) and
/// batches of deliveries. A format version byte leads each; tags are never renumbered.
enum LiveRelayCodec {
    static let formatVersion: UInt8 = 1
    /// Enquiries' open offers in one `openOffers` delivery at most.
    static let maxOpenOfferGroups = 1_000

    private enum InterestTag: UInt8 { case full = 1, update, renew }
    private enum DeliveryTag: UInt8 { case room = 1, staff, enquiries, statuses, offers, openOffers, orderedOffers }

    /// One thing to deliver to another node's sessions.
    enum Delivery {
        /// Committed room events and the room's members (who may see them, their mute settings).
        case room([JournalEntry], audience: RoomState)
        case staff(StaffUpdate)
        /// A staff member's enquiry notices, for their sessions.
        case enquiries(EnquiryUpdate)
        /// Staff statuses for the routing board, from the node leading their accounts.
        case statuses([StaffID: StaffStatus])
        /// One enquiry decision's offer notices, for every node's board and sessions, with
        /// their place in the enquiry's order (nil from a node that sent none).
        case offers(EnquiryNotices, order: NoticeOrder?)
        /// The open offers of enquiries the sender leads, for the board only: what a node
        /// that starts, or was cut off, missed (at most `maxOpenOfferGroups` enquiries).
        case openOffers([OpenOffers])
    }

    static func encode(_ message: InterestMessage, boot: UInt64) -> [UInt8] {
        var writer = BinaryWriter(capacity: 64)
        writer.write(formatVersion)
        writer.write(boot)
        switch message {
        case let .full(interest):
            writer.write(InterestTag.full.rawValue)
            writer.write(interest.rooms.map(\.rawValue).sorted())
            encode(interest.staff, into: &writer)
        case let .update(added, removed, staff):
            writer.write(InterestTag.update.rawValue)
            writer.write(added.map(\.rawValue).sorted())
            writer.write(removed.map(\.rawValue).sorted())
            encode(staff, into: &writer)
        case .renew:
            writer.write(InterestTag.renew.rawValue)
        }
        return writer.bytes
    }

    static func decodeInterest(_ bytes: [UInt8]) throws(DecodingError) -> (message: InterestMessage, boot: UInt64) {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        let boot = try reader.readUInt64()
        func rooms() throws(DecodingError) -> Set<RoomID> { Set(try reader.readStrings().map { RoomID(unchecked: $0) }) }
        let message: InterestMessage
        switch try reader.read(InterestTag.self, "interest tag") {
        case .full:
            let followed = try rooms()
            message = .full(LiveInterest(rooms: followed, staff: try decodeStaff(&reader)))
        case .update:
            let added = try rooms()
            let removed = try rooms()
            message = .update(addRooms: added, removeRooms: removed, staff: try decodeStaff(&reader))
        case .renew:
            message = .renew
        }
        try reader.expectEnd()
        return (message, boot)
    }

    static func encode(_ answer: InterestAnswer) -> [UInt8] { [formatVersion, answer.rawValue] }

    static func decodeAnswer(_ bytes: [UInt8]) throws(DecodingError) -> InterestAnswer {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        let answer = try reader.read(InterestAnswer.self, "interest answer")
        try reader.expectEnd()
        return answer
    }

    /// One delivery's bytes; a batch is `frame` of several.
    static func encode(_ delivery: Delivery) -> [UInt8] {
        var writer = BinaryWriter(capacity: 512)
        switch delivery {
        case let .room(entries, audience):
            writer.write(DeliveryTag.room.rawValue)
            audience.encode(into: &writer)
            JournalEntry.encode(entries, into: &writer)
        case let .staff(update):
            writer.write(DeliveryTag.staff.rawValue)
            writer.write(update.staff.rawValue)
            writer.writeVarint(UInt64(update.unreadRooms))
            writer.writeVarint(UInt64(update.rooms.count))
            for (room, entry) in update.rooms {
                writer.write(room.rawValue)
                entry.encode(into: &writer)
            }
            writer.writeVarint(UInt64(update.mentions.count))
            for mention in update.mentions { mention.encode(into: &writer) }
        case let .enquiries(update):
            writer.write(DeliveryTag.enquiries.rawValue)
            writer.write(update.staff.rawValue)
            writer.writeVarint(UInt64(update.notices.count))
            for notice in update.notices { notice.encode(into: &writer) }
        case let .statuses(statuses):
            writer.write(DeliveryTag.statuses.rawValue)
            writer.writeVarint(UInt64(statuses.count))
            for (staff, status) in statuses.sorted(by: { $0.key < $1.key }) {
                writer.write(staff.rawValue)
                status.encode(into: &writer)
            }
        case let .offers(notices, order?):
            writer.write(DeliveryTag.orderedOffers.rawValue)
            writer.write(order.enquiry.rawValue)
            writer.write(order.seq)
            notices.encode(into: &writer)
        case let .offers(notices, nil):
            writer.write(DeliveryTag.offers.rawValue)
            notices.encode(into: &writer)
        case let .openOffers(groups):
            writer.write(DeliveryTag.openOffers.rawValue)
            writer.writeVarint(UInt64(groups.count))
            for group in groups {
                writer.write(group.order != nil)
                if let order = group.order {
                    writer.write(order.enquiry.rawValue)
                    writer.write(order.seq)
                }
                group.notices.encode(into: &writer)
            }
        }
        return writer.bytes
    }

    /// A batch of encoded deliveries, in order.
    static func frame(_ deliveries: [[UInt8]]) -> [UInt8] {
        var writer = BinaryWriter(capacity: deliveries.reduce(16) { $0 + $1.count })
        writer.write(formatVersion)
        writer.writeVarint(UInt64(deliveries.count))
        var bytes = writer.bytes
        for delivery in deliveries { bytes += delivery }
        return bytes
    }

    static func decodeDeliveries(_ bytes: [UInt8]) throws(DecodingError) -> [Delivery] {
        var reader = BinaryReader(bytes)
        try expectVersion(&reader)
        let count = try reader.readCount(atMost: 10_000_000, of: "deliveries")
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(count)
        for _ in 0..<count {
            switch try reader.read(DeliveryTag.self, "delivery tag") {
            case .room:
                let audience = try RoomState.decode(from: &reader)
                deliveries.append(.room(try JournalEntry.decodeAll(from: &reader), audience: audience))
            case .staff:
                let staff = StaffID(unchecked: try reader.readString())
                let unread = try reader.readCount(atMost: Int(Int32.max), of: "unread rooms")
                var rooms: [(RoomID, StaffRoomEntry)] = []
                for _ in 0..<(try reader.readCount(atMost: 10_000_000, of: "rooms")) {
                    let room = RoomID(unchecked: try reader.readString())
                    rooms.append((room, try StaffRoomEntry.decode(from: &reader)))
                }
                let mentions = try (0..<(try reader.readCount(atMost: 10_000_000, of: "mentions"))).map { _ throws(DecodingError) in
                    try Mention.decode(from: &reader)
                }
                deliveries.append(.staff(StaffUpdate(staff: staff, unreadRooms: unread, rooms: rooms, mentions: mentions)))
            case .enquiries:
                let staff = StaffID(unchecked: try reader.readString())
                let notices = try (0..<(try reader.readCount(atMost: 100_000, of: "notices"))).map { _ throws(DecodingError) in
                    try EnquiryNotice.decode(from: &reader)
                }
                deliveries.append(.enquiries(EnquiryUpdate(staff: staff, notices: notices)))
            case .statuses:
                var statuses: [StaffID: StaffStatus] = [:]
                for _ in 0..<(try reader.readCount(atMost: 10_000_000, of: "statuses")) {
                    let staff = StaffID(unchecked: try reader.readString())
                    statuses[staff] = try StaffStatus.decode(from: &reader)
                }
                deliveries.append(.statuses(statuses))
            case .offers:
                deliveries.append(.offers(try EnquiryNotices.decode(from: &reader), order: nil))
            case .orderedOffers:
                let enquiry = EnquiryID(unchecked: try reader.readString())
                let seq = try reader.readUInt64()
                deliveries.append(.offers(try EnquiryNotices.decode(from: &reader), order: NoticeOrder(enquiry: enquiry, seq: seq)))
            case .openOffers:
                var groups: [OpenOffers] = []
                for _ in 0..<(try reader.readCount(atMost: maxOpenOfferGroups, of: "open offer groups")) {
                    let order = try reader.readBool() ? NoticeOrder(enquiry: EnquiryID(unchecked: try reader.readString()), seq: try reader.readUInt64()) : nil
                    groups.append(OpenOffers(order: order, notices: try EnquiryNotices.decode(from: &reader)))
                }
                deliveries.append(.openOffers(groups))
            }
        }
        try reader.expectEnd()
        return deliveries
    }

    private static func encode(_ staff: [StaffID: Int], into writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(staff.count))
        for (member, count) in staff.sorted(by: { $0.key < $1.key }) {
            writer.write(member.rawValue)
            writer.writeVarint(UInt64(max(count, 0)))
        }
    }

    private static func decodeStaff(_ reader: inout BinaryReader) throws(DecodingError) -> [StaffID: Int] {
        var staff: [StaffID: Int] = [:]
        for _ in 0..<(try reader.readCount(atMost: 10_000_000, of: "staff")) {
            let member = StaffID(unchecked: try reader.readString())
            staff[member] = try reader.readCount(atMost: Int(Int32.max), of: "sessions")
        }
        return staff
    }

    private static func expectVersion(_ reader: inout BinaryReader) throws(DecodingError) {
        let version = try reader.readUInt8()
        guard version == formatVersion else { throw DecodingError("live relay format \(version) (this node reads \(formatVersion))") }
    }
}

/// What a staff member says about taking enquiries. Only ACTIVE staff are offered any.
public enum Availability: UInt8, Sendable, CaseIterable {
    case active = 1
    case away = 2
    case busy = 3
    case offline = 4

    public var name: String { ["active", "away", "busy", "offline"][Int(rawValue) - 1] }

    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = value
    }
}

/// What routing knows of a staff member: their availability and capacity (durable, on the
/// account), the enquiries they hold (durable) and whether any session of theirs is live on
/// any node (soft). `offerable` is what routing asks.
public struct StaffStatus: Sendable, Equatable {
    public var availability: Availability
    /// How many open enquiries they may hold at once.
    public var capacity: Int
    /// How many they hold now.
    public var openEnquiries: Int
    /// Whether a session of theirs is connected to some node.
    public var online: Bool

    public init(availability: Availability, capacity: Int, openEnquiries: Int, online: Bool) {
        self.availability = availability
        self.capacity = capacity
        self.openEnquiries = openEnquiries
        self.online = online
    }

    /// ACTIVE, online and below capacity.
    public var offerable: Bool { availability == .active && online && openEnquiries < capacity }

    /// The capacity of an account whose admin set none.
    public static let defaultCapacity = 5
    /// The most an admin may set.
    public static let maxCapacity = 100
}

extension StaffStatus: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(availability.rawValue)
        writer.writeVarint(UInt64(capacity))
        writer.writeVarint(UInt64(openEnquiries))
        writer.write(online)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffStatus {
        let availability = try reader.read(Availability.self, "availability")
        let capacity = try reader.readCount(atMost: maxCapacity, of: "capacity")
        let open = try reader.readCount(atMost: 1_000_000, of: "open enquiries")
        return StaffStatus(availability: availability, capacity: capacity, openEnquiries: open, online: try reader.readBool())
    }
}

/// Who asks an entity for something: what its rules authorize against. The gateway
/// authenticates and names the caller; the rules decide what the caller may do.
public enum Caller: Sendable, Equatable, CustomStringConvertible {
    /// A signed-in staff member, with their role.
    case staff(StaffID, role: StaffRole)
    /// An anonymous visitor of a website or weblink (the visitor API), by visitor id.
    case visitor(String)
    /// A channel's provider (a verified webhook).
    case channel(ChannelID)
    /// Another entity, through an effect.
    case entity(EntityID)
    /// The node itself: timers, maintenance, trusted internal callers.
    case system

    /// The staff member calling, if a staff member is.
    public var staff: StaffID? {
        if case let .staff(id, _) = self { return id }
        return nil
    }

    /// An admin, or the node itself.
    public var isAdmin: Bool {
        switch self {
        case let .staff(_, role): role == .admin
        case .system: true
        case .visitor, .channel, .entity: false
        }
    }

    /// An entity's effect or the node itself: callers no client can pose as.
    public var isInternal: Bool {
        switch self {
        case .entity, .system: true
        case .staff, .visitor, .channel: false
        }
    }

    public var description: String {
        switch self {
        case let .staff(id, role): "\(role.name) \(id)"
        case let .visitor(id): "visitor \(id)"
        case let .channel(id): "channel \(id)"
        case let .entity(id): "\(id)"
        case .system: "system"
        }
    }

    /// Refuses with `forbidden` unless `allowed`.
    public func require(_ allowed: Bool, _ what: @autoclosure () -> String) throws(DomainError) {
        guard allowed else { throw DomainError(.forbidden, "\(self) may not \(what())") }
    }
}

extension Caller: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .staff(id, role):
            writer.write(UInt8(1))
            writer.write(id.rawValue)
            writer.write(role.rawValue)
        case let .visitor(id):
            writer.write(UInt8(2))
            writer.write(id)
        case let .channel(id):
            writer.write(UInt8(3))
            writer.write(id.rawValue)
        case let .entity(id):
            writer.write(UInt8(4))
            id.encode(into: &writer)
        case .system:
            writer.write(UInt8(5))
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Caller {
        switch try reader.readUInt8() {
        case 1:
            let id = try reader.readString()
            guard StaffID.isValid(id) else { throw DecodingError("invalid staff id \(id)") }
            return .staff(StaffID(unchecked: id), role: try reader.read(StaffRole.self, "staff role"))
        case 2: return .visitor(try reader.readString())
        case 3:
            let id = try reader.readString()
            guard ChannelID.isValid(id) else { throw DecodingError("invalid channel id \(id)") }
            return .channel(ChannelID(unchecked: id))
        case 4: return .entity(try EntityID.decode(from: &reader))
        case 5: return .system
        case let tag: throw DecodingError("unknown caller tag \(tag)")
        }
    }
}

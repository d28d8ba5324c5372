extension DestinationProfile: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(name)
        writer.write(members.map(\.rawValue))
        writer.write(hours != nil)
        hours?.encode(into: &writer)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> DestinationProfile {
        let name = try reader.readString()
        let members = try reader.readStrings()
        guard members.count <= maxMembers else { throw DecodingError("\(members.count) destination members") }
        let hours = try reader.readBool() ? try BusinessHours.decode(from: &reader) : nil
        return DestinationProfile(name: name, members: members.map(StaffID.init(unchecked:)), hours: hours)
    }
}

extension DestinationCommand: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .create(profile):
            writer.write(UInt8(1))
            profile.encode(into: &writer)
        case let .update(name, members, hours):
            writer.write(UInt8(2))
            writer.write(name)
            writer.write(members != nil)
            if let members { writer.write(members.map(\.rawValue)) }
            switch hours {
            case .keep: writer.write(UInt8(0))
            case let .set(value):
                writer.write(UInt8(1))
                value.encode(into: &writer)
            case .clear: writer.write(UInt8(2))
            }
        case .delete:
            writer.write(UInt8(3))
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> DestinationCommand {
        let tag = try reader.readUInt8()
        switch tag {
        case 1: return .create(try DestinationProfile.decode(from: &reader))
        case 2:
            let name = try reader.readOptionalString()
            let members = try reader.readBool() ? try reader.readStrings().map(StaffID.init(unchecked:)) : nil
            let hours: HoursChange
            switch try reader.readUInt8() {
            case 0: hours = .keep
            case 1: hours = .set(try BusinessHours.decode(from: &reader))
            case 2: hours = .clear
            case let other: throw DecodingError("unknown hours change \(other)")
            }
            return .update(name: name, members: members, hours: hours)
        case 3: return .delete
        default: throw DecodingError("unknown destination command \(tag)")
        }
    }
}

extension DestinationEvent: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile, at):
            writer.write(UInt8(1))
            profile.encode(into: &writer)
            writer.write(at.milliseconds)
        case let .updated(profile, at):
            writer.write(UInt8(2))
            profile.encode(into: &writer)
            writer.write(at.milliseconds)
        case let .deleted(at):
            writer.write(UInt8(3))
            writer.write(at.milliseconds)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> DestinationEvent {
        let tag = try reader.readUInt8()
        switch tag {
        case 1, 2:
            let profile = try DestinationProfile.decode(from: &reader)
            let at = Timestamp(milliseconds: try reader.readInt64())
            return tag == 1 ? .created(profile, at: at) : .updated(profile, at: at)
        case 3: return .deleted(at: Timestamp(milliseconds: try reader.readInt64()))
        default: throw DecodingError("unknown destination event \(tag)")
        }
    }
}

extension DestinationState: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id.rawValue)
        writer.write(profile != nil)
        profile?.encode(into: &writer)
        writer.write(createdAt?.milliseconds ?? 0)
        writer.write(deleted)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> DestinationState {
        let id = DestinationID(unchecked: try reader.readString())
        let profile = try reader.readBool() ? try DestinationProfile.decode(from: &reader) : nil
        let created = try reader.readInt64()
        return DestinationState(id: id, profile: profile, createdAt: profile == nil ? nil : Timestamp(milliseconds: created), deleted: try reader.readBool())
    }
}

/// The binary form of a room's state, as the node serving it answers other nodes. Members are
/// written in id order, so equal states encode to equal bytes.
extension RoomState {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(id.rawValue)
        writer.write(profile != nil)
        profile?.encode(into: &writer)
        writer.writeVarint(lastSeq)
        writer.writeVarint(lastEventSeq)
        writer.writeVarint(UInt64(members.count))
        for (staff, member) in members.sorted(by: { $0.key < $1.key }) {
            writer.write(staff.rawValue)
            member.encode(into: &writer)
        }
        information.encode(into: &writer)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomState {
        let id = RoomID(unchecked: try reader.readString())
        let profile = try reader.readBool() ? try RoomProfile.decode(from: &reader) : nil
        let lastSeq = try reader.readVarint()
        let lastEventSeq = try reader.readVarint()
        let count = try reader.readCount(atMost: 1_000_000, of: "members")
        var members: [StaffID: MemberState] = [:]
        members.reserveCapacity(count)
        for _ in 0..<count {
            let staff = StaffID(unchecked: try reader.readString())
            members[staff] = try MemberState.decode(from: &reader)
        }
        return RoomState(
            id: id, profile: profile, members: members, lastSeq: lastSeq, lastEventSeq: lastEventSeq,
            information: try RoomInformation.decode(from: &reader))
    }
}

extension MemberState {
    public func encode(into writer: inout BinaryWriter) {
        writer.writeVarint(readSeq)
        writer.write(mute.rawValue)
        writer.write(joinedAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> MemberState {
        let readSeq = try reader.readVarint()
        let mute = try reader.read(MuteSetting.self, "mute setting")
        return MemberState(readSeq: readSeq, mute: mute, joinedAt: Timestamp(milliseconds: try reader.readInt64()))
    }
}

/// A kind of entity: a stable one-byte tag (in storage keys and log entries) and a name (in
/// entity addresses, "room/<id>", which place an entity on its partition). A kind is a value,
/// not an enum case: a new kind declares its own constant and registers it with the runtime,
/// and no `switch` anywhere learns of it.
public struct EntityKind: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public let name: String

    /// - Parameters:
    ///   - rawValue: the tag; 1 to 0x7F (0 and 0x80 and above are the runtime's own log
    ///     entries and records). Never reuse a tag: logs and state keep it.
    ///   - name: 1 to 32 of `a-z 0-9 -`; never rename a kind (it places its entities).
    public init(rawValue: UInt8, name: String) {
        precondition((1...0x7F).contains(rawValue), "entity kind tags are 1 to 0x7F")
        self.rawValue = rawValue
        self.name = name
    }

    public static func == (lhs: EntityKind, rhs: EntityKind) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String { name }

    public static let room = EntityKind(rawValue: 1, name: "room")
    public static let staff = EntityKind(rawValue: 2, name: "staff")
    public static let enquiry = EntityKind(rawValue: 3, name: "enquiry")
    public static let binding = EntityKind(rawValue: 4, name: "binding")
    public static let channel = EntityKind(rawValue: 5, name: "channel")
    /// Listings kept current by effects (`IndexState`).
    public static let index = EntityKind(rawValue: 6, name: "index")
}

extension EntityID: BinaryCodable {
    /// Tag, name and key: the name travels too, since it places the entity and a receiver
    /// may not know the kind by its tag alone.
    public func encode(into writer: inout BinaryWriter) {
        writer.write(kind.rawValue)
        writer.write(kind.name)
        writer.write(key)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> EntityID {
        let tag = try reader.readUInt8()
        let name = try reader.readString()
        let key = try reader.readString()
        guard (1...0x7F).contains(tag), (1...32).contains(name.utf8.count), (1...200).contains(key.utf8.count), !key.utf8.contains(0) else {
            throw DecodingError("invalid entity address \(tag) \(name)/\(key)")
        }
        return EntityID(kind: EntityKind(rawValue: tag, name: name), key: key)
    }
}

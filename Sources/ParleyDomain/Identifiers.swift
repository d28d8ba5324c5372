/// Identifiers are short opaque strings: 1 to 64 of `A-Z a-z 0-9 . _ -`, so that they can be
/// used in URLs and storage keys without escaping.
public protocol Identifier: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible
where RawValue == String {
    init(unchecked rawValue: String)
}

extension Identifier {
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.init(unchecked: rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether `raw` is a well-formed identifier.
    public static func isValid(_ raw: String) -> Bool {
        guard (1...64).contains(raw.utf8.count) else { return false }
        return raw.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    /// A new random identifier with `prefix`, e.g. `r_3kq…`.
    public static func random(prefix: String) -> Self {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        let body = (0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return Self(unchecked: prefix + String(decoding: body, as: UTF8.self))
    }
}

/// A staff member of the workspace.
public struct StaffID: Identifier {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// A chat room of any kind.
public struct RoomID: Identifier {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// A channel visitors and customers reach the business through (web widget, weblink,
/// Messenger, WhatsApp…).
public struct ChannelID: Identifier {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// The address of one entity: its kind and key. Hashing `description` ("room/<id>") places
/// the entity on its partition.
public struct EntityID: Hashable, Sendable, CustomStringConvertible {
    public let kind: EntityKind
    public let key: String

    public init(kind: EntityKind, key: String) {
        self.kind = kind
        self.key = key
    }

    public static func room(_ id: RoomID) -> EntityID { EntityID(kind: .room, key: id.rawValue) }
    public static func staff(_ id: StaffID) -> EntityID { EntityID(kind: .staff, key: id.rawValue) }
    public static func channel(_ id: ChannelID) -> EntityID { EntityID(kind: .channel, key: id.rawValue) }

    public var description: String { "\(kind)/\(key)" }
}

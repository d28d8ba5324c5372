/// What a staff member may do beyond their own rooms.
public enum StaffRole: UInt8, Sendable, CaseIterable {
    /// Manages staff accounts.
    case admin = 1
    /// Serves enquiries and chats.
    case agent = 2

    public var name: String { self == .admin ? "admin" : "agent" }

    public init?(name: String) {
        guard let role = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }
}

/// Who a staff member is.
public struct StaffProfile: Sendable, Equatable {
    public var displayName: String
    public var role: StaffRole
    public var createdAt: Timestamp

    public init(displayName: String, role: StaffRole, createdAt: Timestamp) {
        self.displayName = displayName
        self.role = role
        self.createdAt = createdAt
    }
}

/// What an admin or the staff member asks of a staff account. Token hashes are computed by
/// the caller: the rules never see a secret.
public enum StaffCommand: Sendable, Equatable {
    case create(displayName: String, role: StaffRole, tokenHash: [UInt8])
    case rotateToken(tokenHash: [UInt8])
}

/// What happened to a staff account.
public enum StaffEvent: Sendable, Equatable {
    case created(StaffProfile, tokenHash: [UInt8])
    case tokenRotated(tokenHash: [UInt8], at: Timestamp)
}

/// A staff account as its actor holds it.
public struct StaffState: Sendable, Equatable {
    public let id: StaffID
    public private(set) var profile: StaffProfile?
    /// SHA-256 of the current token's secret.
    public private(set) var tokenHash: [UInt8]

    public init(id: StaffID, profile: StaffProfile? = nil, tokenHash: [UInt8] = []) {
        self.id = id
        self.profile = profile
        self.tokenHash = tokenHash
    }

    public var exists: Bool { profile != nil }

    public func decide(_ command: StaffCommand, now: Timestamp) throws(DomainError) -> [StaffEvent] {
        switch command {
        case let .create(displayName, role, tokenHash):
            guard !exists else { throw DomainError(.staffAlreadyExists, "staff member \(id) already exists") }
            let name = displayName.trimmingWhitespace()
            guard (1...100).contains(name.unicodeScalars.count) else { throw DomainError(.invalidArgument, "a display name has 1 to 100 characters") }
            guard tokenHash.count == 32 else { throw DomainError(.invalidArgument, "a token hash is 32 bytes") }
            return [.created(StaffProfile(displayName: name, role: role, createdAt: now), tokenHash: tokenHash)]
        case let .rotateToken(tokenHash):
            guard exists else { throw DomainError(.staffNotFound, "no staff member \(id)") }
            guard tokenHash.count == 32 else { throw DomainError(.invalidArgument, "a token hash is 32 bytes") }
            return [.tokenRotated(tokenHash: tokenHash, at: now)]
        }
    }

    public mutating func apply(_ event: StaffEvent) {
        switch event {
        case let .created(profile, tokenHash):
            self.profile = profile
            self.tokenHash = tokenHash
        case let .tokenRotated(tokenHash, _):
            self.tokenHash = tokenHash
        }
    }
}

extension StaffEvent {
    private enum Tag: UInt8 {
        case created = 1
        case tokenRotated = 2
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .created(profile, tokenHash):
            writer.write(Tag.created.rawValue)
            profile.encode(into: &writer)
            writer.write(bytes: tokenHash)
        case let .tokenRotated(tokenHash, at):
            writer.write(Tag.tokenRotated.rawValue)
            writer.write(bytes: tokenHash)
            writer.write(at.milliseconds)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffEvent {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .created:
            let profile = try StaffProfile.decode(from: &reader)
            return .created(profile, tokenHash: try reader.readBytes())
        case .tokenRotated:
            let hash = try reader.readBytes()
            return .tokenRotated(tokenHash: hash, at: Timestamp(milliseconds: try reader.readInt64()))
        case nil:
            throw DecodingError("unknown staff event tag \(raw)")
        }
    }
}

extension StaffProfile {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(displayName)
        writer.write(role.rawValue)
        writer.write(createdAt.milliseconds)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffProfile {
        let name = try reader.readString()
        let rawRole = try reader.readUInt8()
        guard let role = StaffRole(rawValue: rawRole) else { throw DecodingError("unknown staff role \(rawRole)") }
        return StaffProfile(displayName: name, role: role, createdAt: Timestamp(milliseconds: try reader.readInt64()))
    }
}

/// A listing kept current by effects: members (an id each) with a short summary of each,
/// written by the entities listed (a channel puts its own entry on every change). A list is
/// then one read of one entity on one partition, answered while a majority of that
/// partition's replicas lives, instead of a scan of every partition on every node.
public struct IndexState: Sendable, Equatable {
    /// The index's name: its entity key.
    public let name: String
    /// Summaries by member id.
    public private(set) var entries: [String: [UInt8]]

    /// Every channel, summarized as its `ChannelState`.
    public static let channels = "channels"
    /// Every staff account, summarized as its `StaffProfile`.
    public static let staff = "staff"

    public static let maxEntries = 1_000_000
    /// Room for a channel with its 200 longest shortcuts.
    public static let maxSummaryBytes = 1_048_576

    public init(name: String, entries: [String: [UInt8]] = [:]) {
        self.name = name
        self.entries = entries
    }
}

/// What an entity asks of an index.
public enum IndexCommand: Sendable, Equatable {
    /// Adds or replaces `member`'s entry.
    case put(member: String, summary: [UInt8])
    case remove(member: String)
}

/// What happened to an index.
public enum IndexEvent: Sendable, Equatable {
    case put(member: String, summary: [UInt8])
    case removed(member: String)
}

extension IndexState: EntityRules {
    public static var kind: EntityKind { .index }

    public init(key: String) { self.init(name: key) }

    /// The Enquiry Overview's day indexes are for admins; other listings anyone may read.
    public func authorizeRead(by caller: Caller) throws(DomainError) {
        if name.hasPrefix("enquiries.") { try caller.require(caller.isInternal || caller.isAdmin, "read the enquiry overview") }
    }

    /// Only entities (through effects) and the node change an index; anyone may read one.
    public func decide(_ command: IndexCommand, soft: inout NoSoftState, context: DecisionContext) throws(DomainError) -> Decision<IndexEvent> {
        try context.caller.require(context.caller.isInternal, "change an index")
        switch command {
        case let .put(member, summary):
            guard (1...200).contains(member.utf8.count), !member.utf8.contains(0) else {
                throw DomainError(.invalidArgument, "an index member is 1 to 200 bytes without NUL")
            }
            guard summary.count <= Self.maxSummaryBytes else { throw DomainError(.invalidArgument, "an index summary is at most \(Self.maxSummaryBytes) bytes") }
            guard entries[member] != nil || entries.count < Self.maxEntries else { throw DomainError(.invalidArgument, "index \(name) is full") }
            return entries[member] == summary ? Decision() : Decision([.put(member: member, summary: summary)])
        case let .remove(member):
            return entries[member] == nil ? Decision() : Decision([.removed(member: member)])
        }
    }

    public mutating func apply(_ event: IndexEvent) {
        switch event {
        case let .put(member, summary): entries[member] = summary
        case let .removed(member): entries[member] = nil
        }
    }
}

extension IndexState: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(name)
        writer.writeVarint(UInt64(entries.count))
        for member in entries.keys.sorted() {
            writer.write(member)
            writer.write(bytes: entries[member] ?? [])
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> IndexState {
        let name = try reader.readString()
        let count = try reader.readCount(atMost: maxEntries, of: "index entries")
        var entries: [String: [UInt8]] = [:]
        for _ in 0..<count {
            let member = try reader.readString()
            entries[member] = try reader.readBytes()
        }
        return IndexState(name: name, entries: entries)
    }
}

extension IndexCommand: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .put(member, summary):
            writer.write(UInt8(1))
            writer.write(member)
            writer.write(bytes: summary)
        case let .remove(member):
            writer.write(UInt8(2))
            writer.write(member)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> IndexCommand {
        switch try reader.readUInt8() {
        case 1: return .put(member: try reader.readString(), summary: try reader.readBytes())
        case 2: return .remove(member: try reader.readString())
        case let tag: throw DecodingError("unknown index command \(tag)")
        }
    }
}

extension IndexEvent: BinaryCodable {
    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .put(member, summary): IndexCommand.put(member: member, summary: summary).encode(into: &writer)
        case let .removed(member): IndexCommand.remove(member: member).encode(into: &writer)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> IndexEvent {
        switch try IndexCommand.decode(from: &reader) {
        case let .put(member, summary): .put(member: member, summary: summary)
        case let .remove(member): .removed(member: member)
        }
    }
}

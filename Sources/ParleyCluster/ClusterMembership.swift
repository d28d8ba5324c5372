/// A node's name in the cluster: 1–64 of `A-Z a-z 0-9 . _ -`.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ rawValue: String) {
        let allowed = rawValue.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
        guard (1...64).contains(rawValue.utf8.count), allowed else { return nil }
        self.rawValue = rawValue
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}

/// A host and port, as `host:port` (an IPv6 host in brackets).
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port`; the port 1–65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" || $0 == "[" || $0 == "]" }) else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One node of the cluster as every node's configuration lists it.
public struct ClusterMember: Hashable, Sendable {
    public let id: NodeID
    /// Where other nodes reach it (HTTP/2).
    public let peerAddress: HostPort
    /// Where staff clients reach it.
    public let clientAddress: HostPort

    public init(id: NodeID, peerAddress: HostPort, clientAddress: HostPort) {
        self.id = id
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
    }
}

/// The cluster every node must agree on: its members, the fixed partition count and the
/// replication factor. Placement is a function of exactly these, so two nodes with the same
/// `fingerprint` place every partition alike; a node whose fingerprint differs from a peer's
/// is refused (`cluster_membership_mismatch`).
public struct ClusterMembership: Hashable, Sendable {
    /// Sorted by id.
    public let members: [ClusterMember]
    public let partitionCount: Int
    /// Replicas per partition as configured; a smaller cluster has as many as it has nodes.
    public let replicationFactor: Int

    public init(members: [ClusterMember], partitionCount: Int, replicationFactor: Int) throws(ClusterError) {
        guard !members.isEmpty else { throw ClusterError(.invalidMembership, "a cluster needs at least one node") }
        guard members.count <= 64 else { throw ClusterError(.invalidMembership, "a cluster has at most 64 nodes") }
        guard (1...Int(UInt16.max)).contains(partitionCount) else {
            throw ClusterError(.invalidMembership, "the partition count must be between 1 and \(UInt16.max)")
        }
        guard (1...7).contains(replicationFactor) else { throw ClusterError(.invalidMembership, "the replication factor must be between 1 and 7") }
        var seen: Set<NodeID> = []
        var peers: Set<HostPort> = []
        var clients: Set<HostPort> = []
        for member in members {
            guard seen.insert(member.id).inserted else { throw ClusterError(.invalidMembership, "node \(member.id) is listed twice") }
            guard peers.insert(member.peerAddress).inserted else {
                throw ClusterError(.invalidMembership, "peer address \(member.peerAddress) is listed twice")
            }
            guard clients.insert(member.clientAddress).inserted else {
                throw ClusterError(.invalidMembership, "client address \(member.clientAddress) is listed twice")
            }
        }
        self.members = members.sorted { $0.id < $1.id }
        self.partitionCount = partitionCount
        self.replicationFactor = replicationFactor
    }

    /// Replicas each partition actually has.
    public var effectiveReplicationFactor: Int { min(replicationFactor, members.count) }

    public func member(_ id: NodeID) -> ClusterMember? { members.first { $0.id == id } }

    /// The canonical text the fingerprint is taken of: every field placement and routing
    /// depend on, in a fixed order.
    public var canonicalDescription: String {
        var text = "parley-cluster/1 partitions=\(partitionCount) replication=\(replicationFactor)"
        for member in members { text += " \(member.id)@\(member.peerAddress)/\(member.clientAddress)" }
        return text
    }

    /// 16 hex digits that differ between memberships that differ.
    public var fingerprint: String {
        let hash = Partitioner.stableHash(canonicalDescription)
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

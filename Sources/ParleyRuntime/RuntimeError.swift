import ParleyCluster
import ParleyDomain
import ParleyStorage

/// The one error type of ParleyRuntime. Every case has a stable `code`.
public enum RuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A business rule refused the command; nothing changed.
    case rejected(DomainError)
    /// The command could not be made durable now (storage failure, shutdown, fencing that
    /// outlasted the retries); nothing acknowledged was lost and a retry may succeed.
    case unavailable(code: String, message: String)
    /// Stored data could not be read back; a bug or corruption, logged and reported.
    case internalFailure(code: String, message: String)
    /// The entity's partition is served by another node (`serving`: its name and client
    /// address). Nodes forward calls to the serving node, so a client sees this only when a
    /// call reached a node that does not serve the partition (node configurations out of step).
    case servedElsewhere(PartitionID, serving: String)

    public var code: String {
        switch self {
        case let .rejected(error): error.code.rawValue
        case let .unavailable(code, _), let .internalFailure(code, _): code
        case .servedElsewhere: Self.partitionElsewhere
        }
    }

    public var message: String {
        switch self {
        case let .rejected(error): error.message
        case let .unavailable(_, message), let .internalFailure(_, message): message
        case let .servedElsewhere(partition, serving):
            "partition \(partition) is served by \(serving), not by the node asked"
        }
    }

    public var description: String { "\(code): \(message)" }

    /// The code of a command that reached an entity retired after a failed commit.
    static let entityRetired = "entity_retired"

    /// The code of a command for an entity whose partition another node serves.
    public static let partitionElsewhere = "partition_elsewhere"

    /// The code of a call refused by a node through which no answer can come (cut off from a
    /// majority of the partition's replicas).
    public static let partitionUnreachable = "partition_unreachable"

    /// Whether the call failed only because its entity's partition could not answer now (no
    /// leader reachable, a failover under way), not because of what it asked or of storage.
    public var isPartitionOutage: Bool {
        guard case let .unavailable(code, _) = self else { return false }
        return [
            Self.partitionUnreachable, Self.partitionElsewhere, ClusterError.Code.peerUnavailable.rawValue,
            ClusterError.Code.notLeader.rawValue, ClusterError.Code.stale.rawValue,
        ].contains(code)
    }

    /// Whether the command was refused only because its entity's in-memory state was fenced
    /// (a generation change or a retired activation): deciding it again on a fresh
    /// activation is safe, since nothing of it was stored.
    var isFenced: Bool {
        code == ClusterError.Code.stale.rawValue || code == Self.entityRetired
    }

    static func storage(_ error: StorageError) -> RuntimeError {
        error.code == .corruption
            ? .internalFailure(code: error.code.rawValue, message: error.message)
            : .unavailable(code: error.code.rawValue, message: error.message)
    }

    static func log(_ error: ClusterError) -> RuntimeError {
        .unavailable(code: error.code.rawValue, message: error.message)
    }

    static func decoding(_ error: DecodingError) -> RuntimeError {
        .internalFailure(code: "stored_data_unreadable", message: error.message)
    }
}

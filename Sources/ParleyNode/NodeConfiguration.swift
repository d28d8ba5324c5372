import Logging

/// Everything a node is configured with. Every field has a default, so a node runs with no
/// configuration at all (the embedded default: one node, 64 partitions, data in ./data,
/// clients on 127.0.0.1:8080).
public struct NodeConfiguration: Sendable, Equatable {
    public var nodeID = "node-1"
    public var dataDirectory = "./data"
    public var partitions = 64
    public var clientHost = "127.0.0.1"
    /// 0 picks a free port; the node prints the one it got.
    public var clientPort = 8080
    /// When set, a second listener serves the REST API over cleartext HTTP/2 (h2c, prior
    /// knowledge) for load generators and HTTP/2 clients; 0 picks a free port. WebSockets
    /// stay on `clientPort`.
    public var clientH2CPort: Int?
    public var logLevel: Logger.Level = .info
    /// The bootstrap admin token; when nil, the one in the data directory is used, or a new
    /// one is generated there (file mode 0600).
    public var adminToken: String?
    public var passivateAfterSeconds: Double = 300
    public var passivationSweepSeconds: Double = 10
    /// How often uploads no message took up are looked for.
    public var uploadSweepSeconds: Double = 600
    /// How long an upload may stay without its message before its chunks are discarded.
    public var uploadGraceSeconds: Double = 3_600
    public var maxBodyBytes = 1 << 20
    public var maxFileBytes = 25 << 20
    public var maxCommitBatch = 4_096
    public var logRetainedEntries = 100_000
    /// How long a graceful shutdown may take before the node gives up waiting.
    public var shutdownGraceSeconds: Double = 10
    /// A busy live session writes at most one frame per room per this many milliseconds
    /// (events committed meanwhile go out together); an idle one writes at once. 0: never wait.
    public var liveCoalescingMilliseconds = 10
    /// Fetch previews of the web links in messages.
    public var linkPreviews = true
    /// Let link previews fetch from private, loopback and link-local addresses (off: such
    /// links get no preview; on for tests with a local server, or an intranet).
    public var linkPreviewPrivateAddresses = false
    public var linkPreviewTimeoutSeconds: Double = 5
    /// How much of a page is read for its preview.
    public var linkPreviewMaxBytes = 512 * 1_024
    /// Where this node listens for its peers (HTTP/2); with `clusterNodes`, its own entry's.
    public var peerHost = "127.0.0.1"
    public var peerPort = 7_080
    /// Replicas per partition (fewer on a smaller cluster).
    public var replicationFactor = 3
    /// Every node of the cluster, this one included; empty: a single-node cluster of this
    /// node alone.
    public var clusterNodes: [ClusterNodeEntry] = []
    /// How long another node's live sessions count as present (and its followed rooms are
    /// sent events) without the node renewing them; it renews every fifth of this.
    public var presenceLifetimeMilliseconds = 5_000
    /// How long a call forwarded to the node serving an entity may take, failovers included.
    public var forwardTimeoutMilliseconds = 5_000
    /// How long a peer has to answer the check made when a call to it waited 250 ms with
    /// nothing answered (a cut network closes no socket); 0: no such checks, only the
    /// handshake every second.
    public var peerProbeTimeoutMilliseconds = 500
    /// One Raft tick of a replicated cluster: leaders heartbeat every 2 ticks, followers
    /// start an election after 10 to 20 ticks without a leader.
    public var raftTickMilliseconds = 50
    /// A directory of peer certificates (`ca.pem`, `<node id>.pem`, `<node id>-key.pem`, made
    /// by `scripts/make-peer-certs`): nodes then talk mutual TLS. Empty: plaintext.
    public var peerTLSDirectory = ""
    /// Where the peer server listens, when not at this node's peer address in the cluster file
    /// (which other nodes dial: a proxy or NAT in between). Empty: that address.
    public var peerListen = ""
    /// The local IP address dials to peers are made from. Empty: the system's choice.
    public var peerSourceHost = ""
    /// Threads of the process's NIO event loops (client and peer connections); 0: one per
    /// core. Nodes sharing a machine run better with their share of its cores.
    public var eventLoopThreads = 0

    public init() {}
}

/// One node as a cluster config file lists it.
public struct ClusterNodeEntry: Sendable, Equatable {
    public var id: String
    /// `host:port` its peers reach it at.
    public var peer: String
    /// `host:port` staff clients reach it at.
    public var client: String
    /// Its data directory, when the file gives one (a local cluster's nodes share a file).
    public var dataDirectory: String?

    public init(id: String, peer: String, client: String, dataDirectory: String? = nil) {
        self.id = id
        self.peer = peer
        self.client = client
        self.dataDirectory = dataDirectory
    }
}

/// A configuration that cannot be used, naming where the bad value came from.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file path, or `environment`.
    public let source: String
    /// The key in the file, or the environment variable.
    public let key: String?
    public let reason: String

    public init(source: String, key: String?, reason: String) {
        self.source = source
        self.key = key
        self.reason = reason
    }

    public var description: String {
        if let key { return "configuration error in \(source): key '\(key)': \(reason)" }
        return "configuration error in \(source): \(reason)"
    }
}

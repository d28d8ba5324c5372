import Foundation
import Logging
import ParleyCluster

/// One configurable setting: its key in a config file, its environment variable, and how a
/// value is checked and applied. This table is the single list of what can be configured.
struct Setting: Sendable {
    enum Value {
        case string(String)
        case number(Double)
        case flag(Bool)
        /// A list of objects of string fields (the cluster's nodes).
        case entries([[String: String]])
    }

    let key: String
    let apply: @Sendable (inout NodeConfiguration, Value) throws(SettingError) -> Void

    var environmentVariable: String { "PARLEY_" + key.uppercased() }

    static let dataDirectoryVariable = "PARLEY_DATA_DIR"

    struct SettingError: Error {
        let reason: String
    }

    static let all: [Setting] = [
        text("node_id") { config, value throws(SettingError) in
            guard NodeID(value) != nil else { throw SettingError(reason: "must be 1 to 64 of A-Z a-z 0-9 . _ -") }
            config.nodeID = value
        },
        text("data_dir") { config, value throws(SettingError) in
            guard !value.isEmpty else { throw SettingError(reason: "must not be empty") }
            config.dataDirectory = value
        },
        integer("partitions", 1...4_096) { $0.partitions = $1 },
        text("client_host") { config, value throws(SettingError) in
            guard !value.isEmpty else { throw SettingError(reason: "must not be empty") }
            config.clientHost = value
        },
        integer("client_port", 0...65_535) { $0.clientPort = $1 },
        integer("client_h2c_port", 0...65_535) { $0.clientH2CPort = $1 },
        text("log_level") { config, value throws(SettingError) in
            guard let level = Logger.Level(rawValue: value.lowercased()) else {
                throw SettingError(reason: "must be one of trace, debug, info, notice, warning, error, critical")
            }
            config.logLevel = level
        },
        text("admin_token") { config, value throws(SettingError) in
            guard value.utf8.count >= 16, value.utf8.count <= 256, !value.contains(" ") else {
                throw SettingError(reason: "must be 16 to 256 characters without spaces")
            }
            config.adminToken = value
        },
        seconds("passivate_after_seconds") { $0.passivateAfterSeconds = $1 },
        seconds("passivation_sweep_seconds") { $0.passivationSweepSeconds = $1 },
        seconds("upload_sweep_seconds") { $0.uploadSweepSeconds = $1 },
        seconds("upload_grace_seconds") { $0.uploadGraceSeconds = $1 },
        integer("max_body_bytes", 1_024...(1 << 30)) { $0.maxBodyBytes = $1 },
        integer("max_file_bytes", 1_024...(1 << 30)) { $0.maxFileBytes = $1 },
        integer("max_commit_batch", 1...1_000_000) { $0.maxCommitBatch = $1 },
        integer("log_retained_entries", 1...100_000_000) { $0.logRetainedEntries = $1 },
        seconds("shutdown_grace_seconds") { $0.shutdownGraceSeconds = $1 },
        integer("live_coalescing_ms", 0...1_000) { $0.liveCoalescingMilliseconds = $1 },
        flag("link_previews") { $0.linkPreviews = $1 },
        flag("link_preview_private_addresses") { $0.linkPreviewPrivateAddresses = $1 },
        seconds("link_preview_timeout_seconds") { $0.linkPreviewTimeoutSeconds = $1 },
        integer("link_preview_max_bytes", 1_024...(16 << 20)) { $0.linkPreviewMaxBytes = $1 },
        text("peer_host") { config, value throws(SettingError) in
            guard !value.isEmpty else { throw SettingError(reason: "must not be empty") }
            config.peerHost = value
        },
        integer("peer_port", 0...65_535) { $0.peerPort = $1 },
        text("peer_listen") { config, value throws(SettingError) in
            guard value.isEmpty || HostPort(value) != nil else { throw SettingError(reason: "must be empty or host:port") }
            config.peerListen = value
        },
        text("peer_source_host") { config, value throws(SettingError) in
            guard value.isEmpty || NodeConfiguration.isIPAddress(value) else { throw SettingError(reason: "must be empty or an IP address of this machine") }
            config.peerSourceHost = value
        },
        integer("replication_factor", 1...7) { $0.replicationFactor = $1 },
        integer("presence_lifetime_ms", 500...60_000) { $0.presenceLifetimeMilliseconds = $1 },
        integer("forward_timeout_ms", 100...120_000) { $0.forwardTimeoutMilliseconds = $1 },
        integer("peer_probe_timeout_ms", 0...10_000) { $0.peerProbeTimeoutMilliseconds = $1 },
        integer("raft_tick_ms", 5...1_000) { $0.raftTickMilliseconds = $1 },
        text("peer_tls_dir") { config, value throws(SettingError) in
            var isDirectory: ObjCBool = false
            guard value.isEmpty || (FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory) && isDirectory.boolValue) else {
                throw SettingError(reason: "must be empty or an existing directory of peer certificates")
            }
            config.peerTLSDirectory = value
        },
        integer("event_loop_threads", 0...256) { $0.eventLoopThreads = $1 },
        Setting(key: "nodes") { config, value throws(SettingError) in
            config.clusterNodes = try clusterNodes(value)
        },
    ]

    /// The nodes, from a file's list of `{"id","peer","client","data_dir"}` objects or, in
    /// the environment, `id@peer@client` entries separated by commas.
    static func clusterNodes(_ value: Value) throws(SettingError) -> [ClusterNodeEntry] {
        switch value {
        case let .entries(objects):
            var nodes: [ClusterNodeEntry] = []
            for object in objects {
                guard let id = object["id"], let peer = object["peer"], let client = object["client"] else {
                    throw SettingError(reason: "each node needs id, peer and client (and may have data_dir)")
                }
                guard Set(object.keys).isSubset(of: ["id", "peer", "client", "data_dir"]) else {
                    throw SettingError(reason: "a node has only id, peer, client and data_dir")
                }
                nodes.append(ClusterNodeEntry(id: id, peer: peer, client: client, dataDirectory: object["data_dir"]))
            }
            return nodes
        case let .string(text):
            var nodes: [ClusterNodeEntry] = []
            for entry in text.split(separator: ",") {
                let parts = entry.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 3 else { throw SettingError(reason: "must be id@peer@client entries separated by commas") }
                nodes.append(ClusterNodeEntry(id: parts[0], peer: parts[1], client: parts[2]))
            }
            return nodes
        case .number, .flag:
            throw SettingError(reason: "must be a list of nodes")
        }
    }

    static func flag(_ key: String, _ set: @escaping @Sendable (inout NodeConfiguration, Bool) -> Void) -> Setting {
        Setting(key: key) { config, value throws(SettingError) in
            switch value {
            case let .flag(flag): set(&config, flag)
            case let .string(text) where ["true", "1", "on", "yes"].contains(text.lowercased()): set(&config, true)
            case let .string(text) where ["false", "0", "off", "no"].contains(text.lowercased()): set(&config, false)
            default: throw SettingError(reason: "must be true or false")
            }
        }
    }

    static func text(_ key: String, _ set: @escaping @Sendable (inout NodeConfiguration, String) throws(SettingError) -> Void) -> Setting {
        Setting(key: key) { config, value throws(SettingError) in
            guard case let .string(text) = value else { throw SettingError(reason: "must be a string") }
            try set(&config, text)
        }
    }

    static func integer(_ key: String, _ range: ClosedRange<Int>, _ set: @escaping @Sendable (inout NodeConfiguration, Int) -> Void) -> Setting {
        Setting(key: key) { config, value throws(SettingError) in
            let number: Int?
            switch value {
            case let .number(n): number = n.rounded() == n && abs(n) < 1e15 ? Int(n) : nil
            case let .string(s): number = Int(s)
            case .flag, .entries: number = nil
            }
            guard let number else { throw SettingError(reason: "must be a whole number") }
            guard range.contains(number) else { throw SettingError(reason: "must be between \(range.lowerBound) and \(range.upperBound)") }
            set(&config, number)
        }
    }

    static func seconds(_ key: String, _ set: @escaping @Sendable (inout NodeConfiguration, Double) -> Void) -> Setting {
        Setting(key: key) { config, value throws(SettingError) in
            let number: Double?
            switch value {
            case let .number(n): number = n
            case let .string(s): number = Double(s)
            case .flag, .entries: number = nil
            }
            guard let number, number.isFinite else { throw SettingError(reason: "must be a number of seconds") }
            guard number > 0, number <= 86_400 else { throw SettingError(reason: "must be more than 0 and at most 86400") }
            set(&config, number)
        }
    }
}

extension NodeConfiguration {
    /// Whether `text` is an IPv4 or IPv6 address (not a host name: dials bind to it as is).
    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

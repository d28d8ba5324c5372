import ArgumentParser
import Foundation
import Logging
import NIOCore
import ParleyCluster
import ParleyNode

@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: an omnichannel customer-messaging cluster node.",
        subcommands: [Serve.self, Settings.self],
        defaultSubcommand: Serve.self)
}

/// `parley serve`: runs a node.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a node. With no options: one node, 64 partitions, data in ./data, clients on 127.0.0.1:8080.")

    @Option(name: .long, help: "A JSON config file (see cluster-config/). PARLEY_* environment variables override it.")
    var config: String?

    @Option(name: .long, help: "This node's id among a cluster file's nodes (the same as PARLEY_NODE_ID).")
    var node: String?

    func run() async throws {
        let configuration: NodeConfiguration
        do {
            var environment = ProcessInfo.processInfo.environment
            if let node { environment["PARLEY_NODE_ID"] = node }
            configuration = try ConfigurationLoader.load(file: config, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("parley: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        if configuration.eventLoopThreads > 0 {
            // Before anything uses the event loops: the count can be set once, at start.
            NIOSingletons.groupLoopCountSuggestion = configuration.eventLoopThreads
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, level: level) }
        var logger = Logger(label: "parley")
        logger[metadataKey: "node"] = "\(configuration.nodeID)"

        let node: ParleyNode
        do {
            node = try ParleyNode(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("parley: cannot start: \(error)\n".utf8))
            throw ExitCode(2)
        }
        switch node.adminTokenOrigin {
        case let .generated(path): logger.notice("generated the bootstrap admin token", metadata: ["file": "\(path)"])
        case let .dataDirectory(path): logger.info("using the bootstrap admin token", metadata: ["file": "\(path)"])
        case .configured: logger.info("using the configured bootstrap admin token")
        }
        let listeningLogger = logger
        do {
            try await run(node, logger: listeningLogger, configuration: configuration)
        } catch let error as ClusterError {
            // A peer runs another cluster configuration: this node does not join.
            FileHandle.standardError.write(Data("parley: cannot join the cluster: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    private func run(_ node: ParleyNode, logger listeningLogger: Logger, configuration: NodeConfiguration) async throws {
        try await node.run { host, port in
            // Written straight to fd 1 so that scripts and tests reading a pipe see it at once.
            FileHandle.standardOutput.write(Data("parley listening on http://\(host):\(port)\n".utf8))
            listeningLogger.notice("listening", metadata: ["address": "http://\(host):\(port)", "data_dir": "\(configuration.dataDirectory)"])
        } onH2CListening: { host, port in
            FileHandle.standardOutput.write(Data("parley h2c listening on http://\(host):\(port)\n".utf8))
        }
    }
}

/// `parley settings`: lists every setting with its environment variable.
struct Settings: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every setting and its environment variable.")

    func run() {
        for setting in ConfigurationLoader.settings {
            print("\(setting.key)\t\(setting.environmentVariable)")
        }
    }
}

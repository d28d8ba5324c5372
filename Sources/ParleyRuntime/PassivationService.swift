import Logging
import ServiceLifecycle

/// Periodically passivates idle entity actors. Runs until graceful shutdown.
public struct PassivationService: Service {
    let runtime: NodeRuntime
    let logger: Logger

    public init(runtime: NodeRuntime, logger: Logger = Logger(label: "parley.passivation")) {
        self.runtime = runtime
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: runtime.configuration.passivationSweepInterval) {
            let passivated = runtime.passivateIdle()
            if passivated > 0 {
                logger.debug("passivated idle entities", metadata: ["count": "\(passivated)", "active": "\(runtime.activeEntities)"])
            }
        }
    }
}

/// Runs `body` every `interval` until graceful shutdown or cancellation (the loop of the
/// node's periodic services).
func repeatUntilShutdown(every interval: Duration, _ body: () async -> Void) async {
    while !Task.isShuttingDownGracefully, !Task.isCancelled {
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        } catch {
            return
        }
        await body()
    }
}

import Logging
import ServiceLifecycle

/// Which pending uploads are orphans: an upload seen pending in one sweep and still pending
/// in a sweep at least `grace` later is one (its post was refused, or never came because the
/// node stopped between the chunks and the post). Uploads in progress finish well within the
/// grace; the room actor still refuses to discard one whose post is being committed.
struct OrphanUploads {
    private var firstSeen: [PendingUpload: ContinuousClock.Instant] = [:]

    /// Records what a sweep `found` at `now`; answers the uploads to discard.
    mutating func observe(_ found: [PendingUpload], at now: ContinuousClock.Instant, grace: Duration) -> [PendingUpload] {
        var seen: [PendingUpload: ContinuousClock.Instant] = [:]
        for upload in found { seen[upload] = firstSeen[upload] ?? now }
        firstSeen = seen
        return found.filter { now - (seen[$0] ?? now) >= grace }
    }
}

/// Periodically discards the chunks of uploads no message took up. Runs until graceful
/// shutdown.
public struct UploadSweepService: Service {
    let runtime: NodeRuntime
    let logger: Logger

    public init(runtime: NodeRuntime, logger: Logger = Logger(label: "parley.uploads")) {
        self.runtime = runtime
        self.logger = logger
    }

    public func run() async throws {
        var orphans = OrphanUploads()
        await repeatUntilShutdown(every: runtime.configuration.uploadSweepInterval) {
            do {
                let due = orphans.observe(try await runtime.pendingUploads(), at: .now, grace: runtime.configuration.uploadGrace)
                var discarded = 0
                for upload in due where try await runtime.discardUpload(upload) { discarded += 1 }
                if discarded > 0 { logger.info("discarded orphan uploads", metadata: ["count": "\(discarded)"]) }
            } catch {
                logger.warning("upload sweep failed; trying again next time", metadata: ["error": "\(error)"])
            }
        }
    }
}

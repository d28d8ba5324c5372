import Logging
import ParleyCluster
import ParleyDomain
import ServiceLifecycle

/// Keeps the routing board current: reads the destinations listing, announces the statuses
/// of online staff whose accounts this node leads (at once on a change, and renewed every
/// `renewal`), and nudges queued enquiries when someone becomes offerable. Statuses from
/// other nodes arrive through the live relay.
public final class RoutingBoardService: Service {
    public struct Configuration: Sendable {
        /// The longest wait between rounds (a changed account rings at once).
        public var round: Duration = .milliseconds(200)
        /// How often every status this node announces is announced again.
        public var renewal: Duration = .seconds(1)
        /// How often the destinations listing is read.
        public var listingRefresh: Duration = .seconds(1)
        /// Queued enquiries nudged per destination when someone there becomes offerable.
        public var maxNudges = 16
        public init() {}
    }

    let runtime: NodeRuntime
    let configuration: Configuration
    let logger: Logger
    private var board: RoutingBoard { runtime.routingBoard }

    public init(runtime: NodeRuntime, configuration: Configuration = Configuration(), logger: Logger) {
        self.runtime = runtime
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        // Nudges run beside the rounds, so routing commands never hold up the renewals.
        let (nudges, requests) = AsyncStream.makeStream(of: Set<DestinationID>.self, bufferingPolicy: .bufferingNewest(64))
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await destinations in nudges { await self.nudgeQueues(of: destinations) }
                }
                var round = Round()
                while !Task.isCancelled {
                    let newlyOfferable = await self.step(&round, now: .now)
                    let destinations = Set(newlyOfferable.flatMap { self.board.destinations(of: $0) })
                    if !destinations.isEmpty { requests.yield(destinations) }
                    await self.board.changed.wait(atMost: self.configuration.round)
                }
                requests.finish()
            }
        }
    }

    /// What this node announced, and when it last renewed and read the listing.
    struct Round {
        var announced: [StaffID: StaffStatus] = [:]
        var renewedAt: ContinuousClock.Instant?
        var listedAt: ContinuousClock.Instant?
    }

    /// One round; answers the staff who became offerable in it.
    @discardableResult
    func step(_ round: inout Round, now: ContinuousClock.Instant) async -> [StaffID] {
        if round.listedAt.map({ now - $0 >= configuration.listingRefresh }) ?? true {
            round.listedAt = now
            await refreshDestinations()
        }
        // Staff only: visitors' live sessions take part in their rooms under `visitor:<id>`.
        let online = Set((runtime.liveSessions?.sessionCounts() ?? [:]).filter { $0.value > 0 }.keys)
            .union(runtime.relay?.staffWithRemoteSessions() ?? []).filter(\.isStaff)
        let leads = { (staff: StaffID) in self.runtime.configuration.servedPartitions.serves(self.runtime.partitioner.partition(of: .staff(staff))) }
        let led = online.filter(leads)
        await loadMissingAccounts(led)
        let accounts = board.accounts(led.union(round.announced.keys))
        var current: [StaffID: StaffStatus] = [:]
        for staff in led { if let account = accounts[staff] { current[staff] = StaffStatus(account, online: true) } }
        var changes: [StaffID: StaffStatus] = [:]
        for (staff, status) in current where round.announced[staff] != status { changes[staff] = status }
        // Gone offline (or no longer led here): announced offline once, then forgotten.
        for (staff, status) in round.announced where current[staff] == nil {
            if status.online, let account = accounts[staff], leads(staff) {
                changes[staff] = StaffStatus(account, online: false)
            } else if status.online {
                changes[staff] = StaffStatus(availability: status.availability, capacity: status.capacity, openEnquiries: status.openEnquiries, online: false)
            }
        }
        let renew = round.renewedAt.map { now - $0 >= configuration.renewal } ?? true
        var announce = changes
        if renew {
            round.renewedAt = now
            for (staff, status) in current { announce[staff] = status }
            board.prune(keepingAccounts: leads, now: now)
        }
        let newlyOfferable = changes.filter { $0.value.offerable && round.announced[$0.key]?.offerable != true }.map(\.key)
        round.announced = current
        guard !announce.isEmpty else { return newlyOfferable }
        board.merge(announce, now: now)
        runtime.relay?.announce(announce)
        return newlyOfferable
    }

    private func refreshDestinations() async {
        do {
            let listing = try await runtime.state(of: IndexState.destinations, IndexState.self)
            var destinations: [DestinationID: DestinationProfile] = [:]
            for (member, summary) in listing.entries {
                if let profile = try? DestinationProfile.decode(summary) { destinations[DestinationID(unchecked: member)] = profile }
            }
            board.setDestinations(destinations)
        } catch {
            logger.debug("destinations listing unreadable for now", metadata: ["error": "\(error)"])
        }
    }

    /// Loads the accounts of online staff this node leads that it has not read yet (after
    /// start or a leadership change): at most 256 a round.
    private func loadMissingAccounts(_ led: Set<StaffID>) async {
        let known = board.accounts(led)
        for staff in led.filter({ known[$0] == nil }).prefix(256) {
            guard let account = try? await runtime.localState(of: staff.rawValue, StaffState.self) else { continue }
            board.accountChanged(account)
        }
    }

    /// Routes the oldest enquiries queued at `destinations` again, now that someone there can
    /// take one (at most `maxNudges` a destination; the queue's own retry covers the rest).
    private func nudgeQueues(of destinations: Set<DestinationID>) async {
        for destination in destinations.sorted() {
            guard let queue = try? await runtime.state(of: EnquiryState.queueIndex(destination), IndexState.self) else { continue }
            let oldest = queue.entries.sorted { ($0.value.lexicographicallyPrecedes($1.value)) || ($0.value == $1.value && $0.key < $1.key) }
            for (enquiry, _) in oldest.prefix(configuration.maxNudges) {
                do {
                    _ = try await runtime.command(EnquiryCommand.route, to: enquiry, of: EnquiryState.self, by: .system)
                } catch {
                    logger.debug("queued enquiry not nudged", metadata: ["enquiry": "\(enquiry)", "error": "\(error)"])
                }
            }
        }
    }
}

extension StaffStatus {
    /// `account`'s durable part with `online`.
    init(_ account: StaffStatus, online: Bool) {
        self.init(availability: account.availability, capacity: account.capacity, openEnquiries: account.openEnquiries, online: online)
    }
}

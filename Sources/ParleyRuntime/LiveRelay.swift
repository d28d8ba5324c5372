import Logging
import ParleyCluster
import ParleyDomain
import ServiceLifecycle
import Synchronization

/// Live events and presence across nodes. Each node tells the node serving a partition which
/// of its rooms its sessions follow and which staff members have sessions on it (soft state,
/// renewed every `renewal`, forgotten after `lifetime`); the serving node sends each committed
/// batch of a room to the nodes following it, and each staff update to the nodes holding that
/// staff member's sessions. One ordered sender per peer keeps a room's batches in commit order;
/// the sessions' own ordering rules (`LiveSessionState`) drop anything seen twice.
public final class LiveRelay: RoomEventSink, StaffEventSink, Service {
    public struct Configuration: Sendable {
        /// How long another node's interest (and so its staff sessions' presence) lasts
        /// without being renewed.
        public var lifetime: Duration = .seconds(5)
        /// How often this node renews its interest with every peer.
        public var renewal: Duration = .seconds(1)
        /// The deadline of one message to a peer.
        public var callTimeout: Duration = .seconds(2)
        /// Deliveries queued for one peer beyond which the oldest are dropped (its sessions
        /// then resynchronise from the journal).
        public var maxQueued = 20_000
        public init() {}
    }

    let hub: LiveHub
    /// Where the statuses other nodes announce go (the node's routing board).
    public let board: RoutingBoard
    let transport: any PeerTransport
    let served: ServedPartitions
    let partitioner: Partitioner
    let configuration: Configuration
    let logger: Logger
    /// Names this process to peers: interest from an earlier run of this node is not kept.
    let boot = UInt64.random(in: 1...UInt64.max)
    let table: Mutex<LiveInterestTable>
    let links: [NodeID: PeerLink]
    let stopping = Atomic<Bool>(false)

    public init(
        hub: LiveHub, transport: any PeerTransport, served: ServedPartitions, partitioner: Partitioner,
        configuration: Configuration = Configuration(), board: RoutingBoard = RoutingBoard(), logger: Logger
    ) {
        self.hub = hub
        self.board = board
        self.transport = transport
        self.served = served
        self.partitioner = partitioner
        self.configuration = configuration
        self.logger = logger
        table = Mutex(LiveInterestTable(lifetime: configuration.lifetime))
        links = Dictionary(uniqueKeysWithValues: served.peers.map { ($0, PeerLink(peer: $0)) })
    }

    // MARK: Publishing (the node serving the entity)

    public func publish(_ entries: [JournalEntry], room: RoomState) {
        hub.publish(entries, room: room)
        let nodes = table.withLock { $0.nodes(following: room.id, now: .now) }
        guard !nodes.isEmpty else { return }
        let audience = RoomState(id: room.id, profile: nil, members: room.members, lastSeq: room.lastSeq, lastEventSeq: room.lastEventSeq)
        let bytes = LiveRelayCodec.encode(.room(entries, audience: audience))
        for node in nodes { links[node]?.enqueue(bytes, limit: configuration.maxQueued) }
    }

    public func publish(_ events: [StaffEvent], staff: StaffState) {
        var deliveries: [LiveRelayCodec.Delivery] = []
        if let update = StaffUpdate(events, staff: staff) {
            hub.deliver(update)
            deliveries.append(.staff(update))
        }
        if let update = EnquiryUpdate(events, staff: staff.id) {
            hub.deliver(update)
            deliveries.append(.enquiries(update))
        }
        guard !deliveries.isEmpty else { return }
        let nodes = table.withLock { $0.sessions(of: staff.id, now: .now) }.keys
        for delivery in deliveries where !nodes.isEmpty {
            let bytes = LiveRelayCodec.encode(delivery)
            for node in nodes { links[node]?.enqueue(bytes, limit: configuration.maxQueued) }
        }
    }

    /// Tells every peer the statuses of staff whose accounts this node leads (the routing
    /// board's soft state; see `RoutingBoardService`).
    public func announce(_ statuses: [StaffID: StaffStatus]) {
        guard !statuses.isEmpty else { return }
        let bytes = LiveRelayCodec.encode(.statuses(statuses))
        for link in links.values { link.enqueue(bytes, limit: configuration.maxQueued) }
    }

    /// One enquiry decision's offer notices: kept and shown here, and sent to every peer
    /// (every board keeps the offers for the Open Enquiry panel).
    func broadcast(_ notices: EnquiryNotices, order: NoticeOrder) {
        // Notices delivered again (after a failover) went out the first time.
        guard EnquiryNoticeDelivery.receive(notices, order: order, board: board, sessions: hub) else { return }
        let bytes = LiveRelayCodec.encode(.offers(notices, order: order))
        for link in links.values { link.enqueue(bytes, limit: configuration.maxQueued) }
    }

    /// Sends `node` the open offers of the enquiries this node leads, each enquiry's with the
    /// sequence of the last notice heard of it, so the peer keeps whichever is newer (this
    /// copy, or a notice it heard meanwhile). Offers of enquiries led elsewhere come from
    /// their leaders.
    func sendOpenOffers(to node: NodeID) {
        guard let link = links[node] else { return }
        let open = board.openOffers { enquiry in served.serves(partitioner.partition(of: EntityID(kind: EnquiryState.kind, key: enquiry.rawValue))) }
        for start in stride(from: 0, to: open.count, by: LiveRelayCodec.maxOpenOfferGroups) {
            let chunk = Array(open[start..<min(start + LiveRelayCodec.maxOpenOfferGroups, open.count)])
            link.enqueue(LiveRelayCodec.encode(.openOffers(chunk)), limit: configuration.maxQueued)
        }
    }

    /// Staff members with sessions on other nodes that keep renewing them.
    public func staffWithRemoteSessions() -> Set<StaffID> {
        table.withLock { $0.staffWithSessions(now: .now) }
    }

    /// Sessions of `staff` that other nodes keep renewing.
    public func remoteSessions(of staff: StaffID) -> [NodeID: Int] {
        table.withLock { $0.sessions(of: staff, now: .now) }
    }

    // MARK: Subscribing (the node holding sessions)

    /// Returns once the node serving `room` sends this node its events (at once when this node
    /// serves it). Called before a session reads what it missed, so nothing falls in between.
    public func follow(_ room: RoomID) async {
        await ensureRegistered(with: interestedNodes(of: EntityID.room(room)))
    }

    /// Returns once the node serving `staff`'s account knows of this node's sessions of them.
    public func attend(_ staff: StaffID) async {
        await ensureRegistered(with: interestedNodes(of: EntityID.staff(staff)))
    }

    private func ensureRegistered(with nodes: [NodeID]) async {
        guard !stopping.load(ordering: .acquiring) else { return }
        await withTaskGroup(of: Void.self) { group in
            for node in nodes {
                guard let link = links[node] else { continue }
                group.addTask { await link.ensure() }
            }
        }
    }

    /// The other nodes that must know this node's interest in `entity`: the node serving its
    /// partition, and with replication every replica of it, so that whichever replica leads
    /// next already knows where to send the partition's events (no gap after a failover).
    func interestedNodes(of entity: EntityID) -> [NodeID] {
        served.interestedNodes(of: partitioner.partition(of: entity))
    }

    /// What this node's sessions need from `peer`.
    func interest(servedBy peer: NodeID) -> LiveInterest {
        let all = hub.interest()
        return LiveInterest(
            rooms: all.rooms.filter { interestedNodes(of: .room($0)).contains(peer) },
            staff: all.staff.filter { interestedNodes(of: EntityID.staff($0.key)).contains(peer) })
    }

    // MARK: Receiving

    func receive(_ kind: PeerMessageKind, _ body: [UInt8], from node: NodeID) async -> [UInt8] {
        switch kind {
        case .liveInterest:
            do {
                let (message, boot) = try LiveRelayCodec.decodeInterest(body)
                let answer = table.withLock { $0.apply(message, from: node, boot: boot, now: .now) }
                // A full interest comes from a node that starts, or that lost this one (cut
                // off, or its deliveries dropped): it may lack offers made meanwhile.
                if case .full = message { sendOpenOffers(to: node) }
                return LiveRelayCodec.encode(answer)
            } catch {
                logger.warning("unreadable interest from a peer", metadata: ["peer": "\(node)", "error": "\(error)"])
                return LiveRelayCodec.encode(.needFull)
            }
        case .liveEvents:
            do {
                for delivery in try LiveRelayCodec.decodeDeliveries(body) {
                    switch delivery {
                    case let .room(entries, audience): hub.publish(entries, room: audience)
                    case let .staff(update): hub.deliver(update)
                    case let .enquiries(update): hub.deliver(update)
                    case let .statuses(statuses): board.merge(statuses)
                    case let .offers(notices, order): EnquiryNoticeDelivery.receive(notices, order: order, board: board, sessions: hub)
                    case let .openOffers(groups): for group in groups { board.note(group.notices, order: group.order) }
                    }
                }
            } catch {
                logger.warning("unreadable live events from a peer", metadata: ["peer": "\(node)", "error": "\(error)"])
            }
            return []
        case .entityCall, .raft, .raftSnapshot:
            return []
        }
    }

    // MARK: Running

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for link in links.values {
                    group.addTask { await self.renewInterest(over: link) }
                    group.addTask { await self.sendDeliveries(over: link) }
                }
                group.addTask { await self.tick() }
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    private func stop() {
        stopping.store(true, ordering: .releasing)
        for link in links.values { link.stop() }
    }

    /// Every `renewal`: asks each link to renew, and forgets peers' expired interest.
    private func tick() async {
        var next = ContinuousClock.now
        while !stopping.load(ordering: .acquiring), !Task.isCancelled {
            if ContinuousClock.now >= next {
                next = .now + configuration.renewal
                for link in links.values { link.renewalDue() }
                let expired = table.withLock { $0.expire(now: .now) }
                if !expired.isEmpty { logger.notice("peers' live interest expired", metadata: ["peers": "\(expired)"]) }
            }
            // Until the next renewal: graceful shutdown cuts the sleep short (`run` stops then).
            let wake = next
            try? await cancelWhenGracefulShutdown { try await Task.sleep(until: wake) }
        }
        stop()
    }
}

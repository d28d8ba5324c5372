import ParleyCluster
import ParleyDomain

/// What one node's live sessions need from the node serving some partitions: the rooms they
/// follow and, per staff member, how many sessions are connected (which is also presence).
public struct LiveInterest: Sendable, Equatable {
    public var rooms: Set<RoomID> = []
    public var staff: [StaffID: Int] = [:]

    public init(rooms: Set<RoomID> = [], staff: [StaffID: Int] = [:]) {
        self.rooms = rooms
        self.staff = staff
    }
}

/// How a node tells another what its sessions need, as soft state the receiver forgets when
/// it is not renewed. `boot` names the sender's process: a restarted sender starts afresh.
public enum InterestMessage: Sendable, Equatable {
    /// Everything the sender needs from the receiver (replaces what the receiver held).
    case full(LiveInterest)
    /// Rooms added and removed, and staff session counts that changed (0: none left).
    case update(addRooms: Set<RoomID>, removeRooms: Set<RoomID>, staff: [StaffID: Int])
    /// Nothing changed; keep it all.
    case renew
}

/// The answer to an interest message.
public enum InterestAnswer: UInt8, Sendable, Equatable {
    case accepted = 0
    /// The receiver holds nothing of the sender (it restarted, or the sender's interest
    /// expired): send `full`.
    case needFull = 1
}

/// The publishing side of live fan-out, as a pure state machine: which other nodes want which
/// rooms' events and hold which staff members' sessions, each node's interest held only while
/// it keeps renewing it. Time is passed in; nothing here does I/O.
public struct LiveInterestTable: Sendable {
    struct Subscriber: Sendable {
        var boot: UInt64
        var interest: LiveInterest
        var renewedAt: ContinuousClock.Instant
    }

    /// How long a node's interest lasts without renewal.
    public let lifetime: Duration
    private var subscribers: [NodeID: Subscriber] = [:]
    private var followers: [RoomID: Set<NodeID>] = [:]
    private var sessions: [StaffID: [NodeID: Int]] = [:]

    public init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// Applies `message` from `node` (process `boot`) received at `now`.
    public mutating func apply(_ message: InterestMessage, from node: NodeID, boot: UInt64, now: ContinuousClock.Instant) -> InterestAnswer {
        if case let .full(interest) = message {
            drop(node)
            subscribers[node] = Subscriber(boot: boot, interest: LiveInterest(), renewedAt: now)
            add(rooms: interest.rooms, staff: interest.staff, of: node)
            return .accepted
        }
        guard let known = subscribers[node], known.boot == boot, !isExpired(known, at: now) else {
            drop(node)
            return .needFull
        }
        subscribers[node]?.renewedAt = now
        if case let .update(addRooms, removeRooms, staff) = message {
            for room in removeRooms {
                subscribers[node]?.interest.rooms.remove(room)
                removeFollower(node, of: room)
            }
            add(rooms: addRooms, staff: staff, of: node)
        }
        return .accepted
    }

    /// Forgets every node whose interest was not renewed within the lifetime; returns them.
    public mutating func expire(now: ContinuousClock.Instant) -> [NodeID] {
        let expired = subscribers.filter { isExpired($0.value, at: now) }.map(\.key)
        for node in expired { drop(node) }
        return expired.sorted()
    }

    /// The nodes that want `room`'s events.
    public func nodes(following room: RoomID, now: ContinuousClock.Instant) -> [NodeID] {
        guard let nodes = followers[room] else { return [] }
        return nodes.filter { isLive($0, at: now) }.sorted()
    }

    /// The nodes holding sessions of `staff`, and how many each.
    public func sessions(of staff: StaffID, now: ContinuousClock.Instant) -> [NodeID: Int] {
        (sessions[staff] ?? [:]).filter { isLive($0.key, at: now) }
    }

    /// Every staff member with a session on some other node whose interest is live.
    public func staffWithSessions(now: ContinuousClock.Instant) -> Set<StaffID> {
        Set(sessions.filter { $0.value.contains { $0.value > 0 && isLive($0.key, at: now) } }.keys)
    }

    /// Whether `node`'s interest is held and not expired.
    public func isLive(_ node: NodeID, at now: ContinuousClock.Instant) -> Bool {
        subscribers[node].map { !isExpired($0, at: now) } ?? false
    }

    private func isExpired(_ subscriber: Subscriber, at now: ContinuousClock.Instant) -> Bool {
        now - subscriber.renewedAt > lifetime
    }

    private mutating func add(rooms: Set<RoomID>, staff: [StaffID: Int], of node: NodeID) {
        for room in rooms { followers[room, default: []].insert(node) }
        subscribers[node]?.interest.rooms.formUnion(rooms)
        for (member, count) in staff {
            if count > 0 {
                sessions[member, default: [:]][node] = count
                subscribers[node]?.interest.staff[member] = count
            } else {
                sessions[member]?[node] = nil
                if sessions[member]?.isEmpty == true { sessions[member] = nil }
                subscribers[node]?.interest.staff[member] = nil
            }
        }
    }

    private mutating func removeFollower(_ node: NodeID, of room: RoomID) {
        followers[room]?.remove(node)
        if followers[room]?.isEmpty == true { followers[room] = nil }
    }

    private mutating func drop(_ node: NodeID) {
        guard let subscriber = subscribers.removeValue(forKey: node) else { return }
        for room in subscriber.interest.rooms { removeFollower(node, of: room) }
        for member in subscriber.interest.staff.keys {
            sessions[member]?[node] = nil
            if sessions[member]?.isEmpty == true { sessions[member] = nil }
        }
    }
}

extension LiveInterest {
    /// The message that turns `sent` (what the receiver holds) into this.
    func update(from sent: LiveInterest) -> InterestMessage {
        var staffChanges: [StaffID: Int] = [:]
        for (member, count) in staff where sent.staff[member] != count { staffChanges[member] = count }
        for member in sent.staff.keys where staff[member] == nil { staffChanges[member] = 0 }
        let added = rooms.subtracting(sent.rooms)
        let removed = sent.rooms.subtracting(rooms)
        guard !added.isEmpty || !removed.isEmpty || !staffChanges.isEmpty else { return .renew }
        return .update(addRooms: added, removeRooms: removed, staff: staffChanges)
    }
}

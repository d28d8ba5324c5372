import ParleyCluster
import ParleyDomain

/// The typed face of the entity seam: commands and reads of any registered kind, through
/// the node serving the entity (here or forwarded), and the staff accounts' API on top.
extension NodeRuntime {
    /// Runs `command` on entity `key` of `Rules`' kind as `caller`; answers with the entity
    /// after it.
    public func command<Rules: EntityRules>(_ command: Rules.Command, to key: String, of kind: Rules.Type, by caller: Caller = .system) async throws(RuntimeError) -> Rules {
        let entity = EntityID(kind: Rules.kind, key: key)
        let bytes = try await perform(.command(entity, caller: caller, payload: command.encoded, origin: nil, answer: .state)).bytes()
        return try Self.decoded(Rules.self, bytes, of: entity)
    }

    /// The node's wall clock now (what decisions see as `now`).
    public var now: Timestamp { clock.now() }

    /// Entity `key` of `Rules`' kind as committed, if `caller` may read it.
    public func state<Rules: EntityRules>(of key: String, _ kind: Rules.Type, by caller: Caller = .system) async throws(RuntimeError) -> Rules {
        let entity = EntityID(kind: Rules.kind, key: key)
        return try Self.decoded(Rules.self, try await read("", of: entity, by: caller), of: entity)
    }

    /// Read `name` of `entity` ("" its state, "soft" its soft state, else a registered read).
    public func read(_ name: String, of entity: EntityID, by caller: Caller = .system, payload: [UInt8] = []) async throws(RuntimeError) -> [UInt8] {
        try await perform(.read(entity, caller: caller, name: name, payload: payload)).bytes()
    }

    /// The entity as committed, read on this node (which serves it): for registered reads.
    func localState<Rules: EntityRules>(of key: String, _ kind: Rules.Type) async throws(RuntimeError) -> Rules {
        guard let actors = kinds[Rules.kind.rawValue] as? KindActors<PlainHost<Rules>> else { throw Self.unregistered(Rules.kind.rawValue) }
        return try await actors.state(of: EntityID(kind: Rules.kind, key: key), caller: .system)
    }

    /// The kind's actors; refuses an address whose name is not the registered kind's (it
    /// would place the entity on another partition).
    func boundKind(_ kind: EntityKind) throws(RuntimeError) -> any BoundKind {
        guard let bound = kinds[kind.rawValue] else { throw Self.unregistered(kind.rawValue) }
        guard bound.kind.name == kind.name else {
            throw .internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "entity kind \(kind.rawValue) is \(bound.kind.name) here, not \(kind.name)")
        }
        return bound
    }

    /// A kind this node does not run (a node of an older version during an upgrade): worth
    /// retrying, never a refusal by rules.
    static func unregistered(_ tag: UInt8) -> RuntimeError {
        .unavailable(code: "entity_kind_unknown", message: "entity kind \(tag) is not registered on this node")
    }

    static func decoded<Value: BinaryCodable>(_ type: Value.Type, _ bytes: [UInt8], of entity: EntityID) throws(RuntimeError) -> Value {
        do {
            return try Value.decode(bytes)
        } catch {
            throw .internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "\(entity) was answered unreadably: \(error.message)")
        }
    }

    /// Waits, at most `listingWait`, until listing `index` shows `member` as `summary`
    /// (read-your-writes for the writer of a listed entity; others see it as the outbox
    /// delivers, within milliseconds). Gives up quietly: the listing catches up anyway.
    func awaitListing(_ index: String, member: String, summary: [UInt8]) async {
        let deadline = ContinuousClock.now + Self.listingWait
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let listing = try? await state(of: index, IndexState.self), listing.entries[member] == summary { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    static let listingWait: Duration = .seconds(2)

    // MARK: Staff accounts

    /// Runs `command` on staff account `id` as `caller` (the rules decide who may); answers
    /// with the account after it.
    public func staffCommand(_ command: StaffCommand, for id: StaffID, by caller: Caller = .system) async throws(RuntimeError) -> StaffState {
        try await self.command(command, to: id.rawValue, of: StaffState.self, by: caller)
    }

    /// Staff account `id` as applied (`exists` is false when there is none).
    public func staffAccount(_ id: StaffID) async throws(RuntimeError) -> StaffState {
        try await state(of: id.rawValue, StaffState.self)
    }

    /// Staff member `id`'s token hash and role (nil: no such account), without the rest of
    /// the account: what a bearer token is checked against.
    public func staffCredentials(_ id: StaffID) async throws(RuntimeError) -> StaffCredentials? {
        // Every request asks this: answered by the account's actor here, typed, when this node
        // serves the account; through the serving node (a generic read) otherwise, or when
        // the account's partition moved away meanwhile.
        if let staffActors, servesAccount(of: id) {
            do {
                let account = try await staffActors.state(of: .staff(id), caller: .system)
                return account.credentials
            } catch {
                switch error {
                case .rejected, .internalFailure: throw error
                case .unavailable, .servedElsewhere: break
                }
            }
        }
        let bytes = try await read("credentials", of: .staff(id))
        var reader = BinaryReader(bytes)
        do {
            guard try reader.readBool() else { return nil }
            let credentials = try StaffCredentials.decode(from: &reader)
            try reader.expectEnd()
            return credentials
        } catch {
            throw .internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "credentials of \(id) were answered unreadably: \(error.message)")
        }
    }

    /// Where staff member `id` has live sessions: this node's and those other nodes keep
    /// renewing (a node that stops renewing drops out within the presence lifetime).
    /// Fails with `staff_not_found` when there is no such account (one call to the serving node).
    public func presence(of id: StaffID) async throws(RuntimeError) -> StaffPresence {
        try Self.decoded(StaffPresence.self, try await read("presence", of: .staff(id)), of: .staff(id))
    }

    /// The newest mentions of `staff`, newest first.
    public func mentions(of staff: StaffID, limit: Int = 50) async throws(RuntimeError) -> [Mention] {
        var writer = BinaryWriter()
        writer.writeVarint(UInt64(max(0, limit)))
        let bytes = try await read("mentions", of: .staff(staff), payload: writer.bytes)
        var reader = BinaryReader(bytes)
        do {
            let count = try reader.readCount(atMost: 10_000, of: "mentions")
            var mentions: [Mention] = []
            for _ in 0..<count { mentions.append(try Mention.decode(from: &reader)) }
            return mentions
        } catch {
            throw .internalFailure(code: ClusterError.Code.peerProtocol.rawValue, message: "mentions of \(staff) were answered unreadably: \(error.message)")
        }
    }

    /// Every staff account's profile, from the staff listing (one read of one entity).
    public func allStaff() async throws(RuntimeError) -> [(id: StaffID, profile: StaffProfile)] {
        let index = try await state(of: IndexState.staff, IndexState.self)
        var staff: [(id: StaffID, profile: StaffProfile)] = []
        for (member, summary) in index.entries.sorted(by: { $0.key < $1.key }) {
            var reader = BinaryReader(summary)
            guard let profile = try? StaffProfile.decode(from: &reader) else { continue }
            staff.append((StaffID(unchecked: member), profile))
        }
        return staff
    }
}

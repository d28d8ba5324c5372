import ParleyCluster
import ParleyDomain

/// Where a quick link comes from: the sender's own shortcuts or a channel's.
public enum QuickLinkSource: Sendable, Equatable {
    case personal
    case channel(ChannelID)
}

extension NodeRuntime {
    /// Runs `command` on channel `id`; answers with the channel after it.
    public func channelCommand(_ command: ChannelCommand, for id: ChannelID) async throws(RuntimeError) -> ChannelState {
        try await perform(.channelCommand(id, command)).channel()
    }

    /// Channel `id` as applied (`exists` is false when there is none).
    public func channel(_ id: ChannelID) async throws(RuntimeError) -> ChannelState {
        try await perform(.channel(id)).channel()
    }

    /// Every channel, by id, as applied: this node's and every other node's.
    public func allChannels() async throws(RuntimeError) -> [ChannelState] {
        // Every peer is asked at once; any one's failure fails the list (it would be partial).
        let answers = await withTaskGroup(of: Result<[ChannelState], RuntimeError>.self) { group in
            for node in configuration.servedPartitions.peers {
                group.addTask {
                    do throws(RuntimeError) {
                        return .success(try await self.perform(.servedChannels, on: node).channels())
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var answers: [Result<[ChannelState], RuntimeError>] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        var channels = try await servedChannels()
        for answer in answers { channels += try answer.get() }
        return channels.sorted { $0.id.rawValue < $1.id.rawValue }
    }

    /// The channels of the partitions this node serves.
    func servedChannels() async throws(RuntimeError) -> [ChannelState] {
        let store = channelStore
        let served = configuration.servedPartitions
        return try await store.database.executor.run { () throws(RuntimeError) -> [ChannelState] in try store.allChannels() }
            .filter { served.serves(store.partition(of: $0.id)) }
    }

    /// Sends quick link `code` to `room`: from `author`'s own shortcuts or from a channel's
    /// (its web link, phone number or own shortcuts). The expansion is the message text; the
    /// shortcut itself is the message's quick link.
    public func sendShortcut(
        _ code: String, from source: QuickLinkSource = .personal, in room: RoomID, by author: StaffID, idempotencyKey: String? = nil
    ) async throws(RuntimeError) -> (message: Message, replayed: Bool) {
        let shortcut: Shortcut?
        switch source {
        case .personal:
            shortcut = try await staffAccount(author).shortcuts[code]
            guard shortcut != nil else { throw .rejected(DomainError(.shortcutNotFound, "\(author) has no shortcut \(code)")) }
        case let .channel(id):
            let channel = try await channel(id)
            guard channel.exists else { throw .rejected(DomainError(.channelNotFound, "no channel \(id)")) }
            shortcut = channel.quickLink(code)
            guard shortcut != nil else { throw .rejected(DomainError(.shortcutNotFound, "channel \(id) has no quick link \(code)")) }
        }
        return try await postMessage(
            in: room, MessagePost(author: author, text: shortcut?.expansion ?? "", idempotencyKey: idempotencyKey, quickLink: shortcut))
    }

    func channelRegistry(for id: ChannelID) -> EntityRegistry<ChannelActor> {
        channels[Int(channelStore.partition(of: id).rawValue)]
    }
}

import ParleyCluster
import ParleyDomain

/// Where a quick link comes from: the sender's own shortcuts or a channel's.
public enum QuickLinkSource: Sendable, Equatable {
    case personal
    case channel(ChannelID)
}

extension NodeRuntime {
    /// Runs `command` on channel `id` as `caller` (admins only, the rules decide); answers
    /// with the channel after it.
    /// The listing is kept by an effect; this waits (briefly) until it shows the change, so
    /// an admin who lists right after a change sees it.
    public func channelCommand(_ command: ChannelCommand, for id: ChannelID, by caller: Caller = .system) async throws(RuntimeError) -> ChannelState {
        let channel = try await self.command(command, to: id.rawValue, of: ChannelState.self, by: caller)
        await awaitListing(IndexState.channels, member: id.rawValue, summary: channel.encoded)
        return channel
    }

    /// Channel `id` as applied (`exists` is false when there is none).
    public func channel(_ id: ChannelID) async throws(RuntimeError) -> ChannelState {
        try await state(of: id.rawValue, ChannelState.self)
    }

    /// Every channel, by id, from the channel listing: one read of one entity, answered while
    /// a majority of its partition's replicas lives (whichever other nodes are down).
    public func allChannels() async throws(RuntimeError) -> [ChannelState] {
        let index = try await state(of: IndexState.channels, IndexState.self)
        var channels: [ChannelState] = []
        for (member, summary) in index.entries.sorted(by: { $0.key < $1.key }) {
            do {
                channels.append(try ChannelState.decode(summary))
            } catch {
                logger.error("an unreadable channel listing entry", metadata: ["channel": "\(member)", "error": "\(error)"])
            }
        }
        return channels
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

}

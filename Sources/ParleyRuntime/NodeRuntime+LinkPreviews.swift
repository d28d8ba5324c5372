import ParleyDomain

extension NodeRuntime {
    /// Records previews of message `seq`'s links (what the `LinkPreviewService` calls). The
    /// room keeps only those of links its text still has, and ignores recalled messages.
    public func attachLinkPreviews(_ previews: [LinkPreview], to seq: UInt64, in room: RoomID) async throws(RuntimeError) {
        _ = try await send(.attachLinkPreviews(seq: seq, previews), to: room)
    }

    /// Asks for previews of the links of messages just posted or edited, when previews are on.
    func requestLinkPreviews(after entries: [JournalEntry], in room: RoomID) {
        guard let linkPreviews else { return }
        for entry in entries {
            switch entry.event {
            case let .messagePosted(message), let .messageEdited(message): linkPreviews.request(message, in: room)
            default: continue
            }
        }
    }
}

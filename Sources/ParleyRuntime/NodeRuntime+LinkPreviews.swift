import ParleyDomain

extension NodeRuntime {
    /// Records previews of message `seq`'s links (what the `LinkPreviewService` calls). The
    /// room keeps only those of links its text still has, and ignores recalled messages.
    public func attachLinkPreviews(_ previews: [LinkPreview], to seq: UInt64, in room: RoomID) async throws(RuntimeError) {
        _ = try await send(.attachLinkPreviews(seq: seq, previews), to: room)
    }

    /// Asks for previews of a just-committed message's links, when previews are on.
    func requestLinkPreviews(of message: Message, in room: RoomID) {
        linkPreviews?.request(message, in: room)
    }
}

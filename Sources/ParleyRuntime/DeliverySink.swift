import ParleyDomain

/// One outgoing delivery an entity's effect asked for: the payload for the sink, who sent
/// it, its sequence (increasing per source: a sink may drop one it has seen) and the fencing
/// epoch it was committed under (a provider adapter refuses sends of an older epoch than one
/// it has seen for the same source).
public struct OutboundDelivery: Sendable, Equatable {
    public let source: EntityID
    public let seq: UInt64
    public let epoch: UInt64
    public let payload: [UInt8]
}

/// Where deliveries of one name go (a provider adapter, a webhook sender): the runtime's
/// port for the channel adapters. A delivery is retried, with backoff, until `deliver`
/// returns; throwing `.rejected` drops it for good (logged), any other error retries.
public protocol DeliverySink: Sendable {
    func deliver(_ delivery: OutboundDelivery) async throws(RuntimeError)
}

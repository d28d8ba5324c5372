import ParleyCluster
import ParleyDomain

/// The host of enquiries: decides with the node's routing board as the rules' facts
/// (destinations, staff statuses, time zones), which the rules cannot read themselves.
final class EnquiryHost: EntityHost {
    typealias Rules = EnquiryState

    let facts: any RoutingFacts

    init(entity: EntityID, partition: PartitionID, context: KindContext) {
        facts = context.sinks.routing
    }

    func decide(
        _ command: EnquiryCommand, on state: EnquiryState, committed: EnquiryState, soft: inout NoSoftState, context: DecisionContext
    ) throws(RuntimeError) -> HostDecision<EnquiryEvent, EnquiryState> {
        do {
            return .decided(try state.decide(command, facts: facts, context: context))
        } catch {
            throw .rejected(error)
        }
    }

    func answer(state: EnquiryState, firstEventSeq: UInt64, events: [EnquiryEvent]) -> EnquiryState { state }

    static func state(of answer: EnquiryState) -> EnquiryState { answer }

    static func encode(_ answer: EnquiryState, brief: Bool) -> [UInt8] { answer.encoded }
}

/// Enquiries, destinations and visitors as registered kinds. Each keeps its events as a
/// journal folded at load: an enquiry lives for a conversation, a destination changes rarely,
/// a visitor has a handful of events per enquiry.
enum EnquiryKinds {
    static let enquiries = EntityKindRegistration<EnquiryState>()
    /// A committed change is on this node's board at once (other nodes read the listing
    /// within a second).
    static let destinations = EntityKindRegistration<DestinationState>(publish: { sinks, _, _, state in sinks.routing.destinationChanged(state) })
    static let visitors = EntityKindRegistration<VisitorState>()
}

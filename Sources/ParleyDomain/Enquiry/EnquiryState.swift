/// What a visitor's first message brings to a new enquiry: where it came from, who the
/// visitor is, what they wrote, and the source's settings as they were then.
public struct EnquiryStart: Sendable, Equatable {
    /// The source (a channel: widget, weblink, messaging channel…) and its name.
    public var source: ChannelID
    public var sourceName: String
    public var visitor: VisitorID
    public var visitorName: String
    public var firstMessage: String
    /// Visitor, device, UTM and source details for Room Information.
    public var information: RoomInformation
    /// The source's routing rule; nil: it names no destination, so the enquiry waits
    /// unassigned until an admin transfers it.
    public var rule: RoutingRule?
    /// The staff member who last served this visitor on this source (Sticky).
    public var lastAgent: StaffID?
    /// How long an offer waits for an accept.
    public var offerTimeoutSeconds: Int
    /// How long an accepted enquiry may be idle before it closes itself (0: never).
    public var idleCloseMinutes: Int
    /// Written to the visitor when the enquiry opens, and when nobody can take it (once).
    public var welcomeMessage: String?
    public var awayMessage: String?
    /// The client's idempotency key of the first message (a retry of it posts it once).
    public var firstMessageKey: String?

    public init(
        source: ChannelID, sourceName: String, visitor: VisitorID, visitorName: String, firstMessage: String, information: RoomInformation = RoomInformation(),
        rule: RoutingRule?, lastAgent: StaffID? = nil, offerTimeoutSeconds: Int = 60, idleCloseMinutes: Int = 30, welcomeMessage: String? = nil,
        awayMessage: String? = nil, firstMessageKey: String? = nil
    ) {
        self.firstMessageKey = firstMessageKey
        self.welcomeMessage = welcomeMessage
        self.awayMessage = awayMessage
        self.source = source
        self.sourceName = sourceName
        self.visitor = visitor
        self.visitorName = visitorName
        self.firstMessage = firstMessage
        self.information = information
        self.rule = rule
        self.lastAgent = lastAgent
        self.offerTimeoutSeconds = offerTimeoutSeconds
        self.idleCloseMinutes = idleCloseMinutes
    }
}

/// Where an enquiry stands.
public enum EnquiryStatus: UInt8, Sendable, CaseIterable {
    /// Offered to staff; nobody accepted yet.
    case offered = 1
    /// Nobody could be offered it: waiting in its destination's queue.
    case queued = 2
    /// One staff member owns it (a transfer may be on offer meanwhile).
    case accepted = 3
    case closed = 4

    public var name: String { ["offered", "queued", "accepted", "closed"][Int(rawValue) - 1] }

    public init?(name: String) {
        guard let status = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = status
    }
}

/// An offer waiting for an accept: to whom, through which destination, since when. A
/// transfer's offer names the owner it came from, who keeps the enquiry until it is taken.
public struct EnquiryOffer: Sendable, Equatable {
    public var destination: DestinationID?
    public var staff: [StaffID]
    public var round: UInt32
    public var at: Timestamp
    public var transferFrom: StaffID?

    public init(destination: DestinationID?, staff: [StaffID], round: UInt32, at: Timestamp, transferFrom: StaffID? = nil) {
        self.destination = destination
        self.staff = staff
        self.round = round
        self.at = at
        self.transferFrom = transferFrom
    }
}

/// Where a transfer goes.
public enum TransferTarget: Sendable, Equatable {
    case staff(StaffID)
    case destination(DestinationID)
}

/// What is asked of an enquiry.
public enum EnquiryCommand: Sendable, Equatable {
    /// The visitor's first message: open, send the welcome, route.
    case open(EnquiryStart)
    /// Route again (a queued enquiry's retry, or a nudge when someone became offerable).
    case route
    case accept(StaffID)
    case decline(StaffID)
    /// The owner (or an admin) hands it to a staff member or a destination.
    case transfer(TransferTarget, by: StaffID)
    /// Closed by a staff member (the owner or an admin); nil: by the node (idle).
    case close(by: StaffID?)
    /// The offer's timer fell due.
    case offerTimedOut
    /// The idle timer fell due.
    case idleTimedOut
    /// A message went either way: the idle timer starts again.
    case touch
    /// The visitor wrote again (into the enquiry room).
    case visitorMessage(text: String, idempotencyKey: String?)
    /// The visitor entity learnt of the close: answered with `VisitorCommand.drained` once
    /// every message it sent before has arrived (and bounced back).
    case drain
}

/// What happened to an enquiry.
public enum EnquiryEvent: Sendable, Equatable {
    case opened(EnquiryStart, at: Timestamp)
    case offered(EnquiryOffer)
    case queued(destination: DestinationID?, at: Timestamp)
    /// The away message went to the visitor (once per enquiry).
    case awaySent(at: Timestamp)
    /// `staff` owns it now; `from` is the owner it was transferred from.
    case accepted(StaffID, at: Timestamp, from: StaffID?)
    case declined(StaffID, at: Timestamp)
    /// The offer of `round` found no taker in time.
    case offerLapsed(round: UInt32, at: Timestamp)
    /// An admin moved the offer of `round` elsewhere (not a missed offer).
    case offerWithdrawn(round: UInt32, at: Timestamp)
    case closed(by: StaffID?, at: Timestamp)
}

/// One enquiry as its actor holds it.
public struct EnquiryState: Sendable, Equatable {
    public let id: EnquiryID
    public internal(set) var start: EnquiryStart?
    public internal(set) var openedAt: Timestamp?
    public internal(set) var status: EnquiryStatus
    public internal(set) var owner: StaffID?
    public internal(set) var acceptedAt: Timestamp?
    /// When it was first accepted (the waiting time ends there; transfers keep it).
    public internal(set) var firstAcceptedAt: Timestamp?
    /// The offer waiting for an accept, if any.
    public internal(set) var offer: EnquiryOffer?
    /// Where it waits while queued, and since when.
    public internal(set) var queueDestination: DestinationID?
    public internal(set) var queuedAt: Timestamp?
    /// The destination it was last offered or queued through.
    public internal(set) var destination: DestinationID?
    /// What this round of routing skips: destinations and staff whose offer lapsed or who
    /// declined.
    public internal(set) var skipDestinations: Set<DestinationID>
    public internal(set) var skipStaff: Set<StaffID>
    public internal(set) var round: UInt32
    /// Offers that lapsed with nobody accepting.
    public internal(set) var missed: UInt32
    public internal(set) var awaySent: Bool
    /// Every staff member who owned it, in order.
    public internal(set) var servedBy: [StaffID]
    public internal(set) var closedAt: Timestamp?
    public internal(set) var closedBy: StaffID?

    public init(id: EnquiryID) {
        self.id = id
        status = .queued
        skipDestinations = []
        skipStaff = []
        round = 0
        missed = 0
        awaySent = false
        servedBy = []
    }

    public var exists: Bool { start != nil }

    /// The enquiry room: it shares the enquiry's id.
    public var room: RoomID { RoomID(unchecked: id.rawValue) }

    public mutating func apply(_ event: EnquiryEvent) {
        switch event {
        case let .opened(start, at):
            self.start = start
            openedAt = at
            status = .queued
        case let .offered(offer):
            self.offer = offer
            round = offer.round
            if offer.transferFrom == nil {
                status = .offered
                queueDestination = nil
                queuedAt = nil
            }
            destination = offer.destination ?? destination
        case let .queued(destination, at):
            status = .queued
            offer = nil
            queueDestination = destination
            if queuedAt == nil { queuedAt = at }
            self.destination = destination ?? self.destination
        case .awaySent:
            awaySent = true
        case let .accepted(staff, at, _):
            status = .accepted
            owner = staff
            acceptedAt = at
            if firstAcceptedAt == nil { firstAcceptedAt = at }
            offer = nil
            queueDestination = nil
            queuedAt = nil
            skipStaff = []
            skipDestinations = []
            servedBy.append(staff)
        case let .declined(staff, _):
            skipStaff.insert(staff)
            offer?.staff.removeAll { $0 == staff }
            if offer?.staff.isEmpty == true { offer = nil }
        case .offerLapsed:
            if let offer {
                if offer.transferFrom == nil { missed += 1 }
                skipStaff.formUnion(offer.staff)
                if let destination = offer.destination { skipDestinations.insert(destination) }
            }
            offer = nil
        case .offerWithdrawn:
            offer = nil
        case let .closed(by, at):
            status = .closed
            offer = nil
            queueDestination = nil
            closedAt = at
            closedBy = by
        }
    }
}

/// What a channel's widget shows a visitor before they write (CINNOX's tag and staff
/// directory): the destinations its routing names, each available or not, and their members
/// with their availability, named in the channel's display-name format.
public struct WidgetDirectory: Sendable, Equatable {
    public struct Destination: Sendable, Equatable {
        public let id: DestinationID
        public let name: String
        /// Someone in it can be offered an enquiry now (within its business hours).
        public let available: Bool
    }

    public struct Staff: Sendable, Equatable {
        public let id: StaffID
        /// As the channel shows staff names (the channel's own name when it shows none).
        public let displayName: String
        /// Offline unless a session of theirs is live somewhere.
        public let availability: Availability
    }

    public let destinations: [Destination]
    public let staff: [Staff]

    /// At most this many staff are listed (a widget shows a directory, not a roster).
    public static let maxStaff = 200

    /// The directory of `channel` now: its rule's destinations in order (those unknown to
    /// `facts` left out), then their members once each in the same order. `name` gives a staff
    /// member's display name (their id stands in for one missing).
    public init(_ channel: ChannelState, facts: any RoutingFacts, now: Timestamp, name: (StaffID) -> String?) {
        var destinations: [Destination] = []
        var members: [StaffID] = []
        var listed = Set<StaffID>()
        for id in channel.settings.rule?.destinations ?? [] {
            guard let profile = facts.destination(id) else { continue }
            let available = !EnquiryRouter.offerable(id, skipping: [], now: now, facts: facts).isEmpty
            destinations.append(Destination(id: id, name: profile.name, available: available))
            for member in profile.members where listed.insert(member).inserted { members.append(member) }
        }
        self.destinations = destinations
        staff = members.prefix(Self.maxStaff).map { member in
            let status = facts.status(of: member)
            let shown = name(member) ?? member.rawValue
            return Staff(
                id: member, displayName: channel.settings.displayName.shown(shown) ?? channel.profile?.name ?? "",
                availability: (status?.online == true ? status?.availability : nil) ?? .offline)
        }
    }
}

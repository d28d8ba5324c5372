extension StaffState {
    /// What routing needs to know of this account, given whether a session is live.
    public func status(online: Bool) -> StaffStatus {
        StaffStatus(availability: availability, capacity: capacity, openEnquiries: enquiries.count, online: online)
    }

    /// Availability, capacity and enquiry notices. Notices may repeat (effects are delivered
    /// at least once): one that changes nothing appends nothing.
    func decideEnquiryCommand(_ command: StaffCommand, now: Timestamp) throws(DomainError) -> [StaffEvent] {
        guard exists else { throw DomainError(.staffNotFound, "no staff member \(id)") }
        switch command {
        case let .setAvailability(value):
            return value == availability ? [] : [.availabilitySet(value, at: now)]
        case let .setCapacity(value):
            guard (0...StaffStatus.maxCapacity).contains(value) else {
                throw DomainError(.invalidArgument, "a capacity is 0 to \(StaffStatus.maxCapacity) open enquiries")
            }
            return value == capacity ? [] : [.capacitySet(value, at: now)]
        case let .noteEnquiry(notice):
            let changes: Bool =
                switch notice {
                case let .offered(note): offers[note.enquiry] != note
                case let .offerEnded(enquiry, _): offers[enquiry] != nil
                case let .assigned(enquiry): !enquiries.contains(enquiry) || offers[enquiry] != nil
                case let .released(enquiry): enquiries.contains(enquiry)
                }
            return changes ? [.enquiryNoted(notice)] : []
        default:
            preconditionFailure("not an enquiry command: \(command)")
        }
    }

    mutating func applyEnquiryEvent(_ event: StaffEvent) {
        switch event {
        case let .availabilitySet(value, _): availability = value
        case let .capacitySet(value, _): capacity = value
        case let .enquiryNoted(notice):
            switch notice {
            case let .offered(note): offers[note.enquiry] = note
            case let .offerEnded(enquiry, _): offers[enquiry] = nil
            case let .assigned(enquiry):
                offers[enquiry] = nil
                enquiries.insert(enquiry)
            case let .released(enquiry): enquiries.remove(enquiry)
            }
        default:
            preconditionFailure("not an enquiry event: \(event)")
        }
    }
}

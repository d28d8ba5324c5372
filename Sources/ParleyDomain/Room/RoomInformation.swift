/// What the Room Information panel shows about a room, by kind: enquiry rooms carry the
/// enquiry, visitor, device, UTM and destination; direct rooms with an external contact carry
/// the contact; conference rooms their host and participants.
public struct RoomInformation: Sendable, Equatable {
    public var enquiry: EnquiryInfo?
    /// Visitor form fields, then fields staff added, in order.
    public var visitor: [Field]
    public var device: DeviceInfo?
    /// `utm_campaign`, `utm_content`, `utm_medium`, `utm_source`, `utm_term` and any custom
    /// `utm_*` parameter, in the order they arrived.
    public var utm: [Field]
    public var destination: DestinationInfo?
    public var contact: ContactInfo?
    public var conference: ConferenceInfo?

    public init(
        enquiry: EnquiryInfo? = nil, visitor: [Field] = [], device: DeviceInfo? = nil, utm: [Field] = [],
        destination: DestinationInfo? = nil, contact: ContactInfo? = nil, conference: ConferenceInfo? = nil
    ) {
        self.enquiry = enquiry
        self.visitor = visitor
        self.device = device
        self.utm = utm
        self.destination = destination
        self.contact = contact
        self.conference = conference
    }

    public var isEmpty: Bool { self == RoomInformation() }

    /// A named value.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Checks sizes and names: at most 100 fields a list, names 1–64 scalars, values up to
    /// 1,000; UTM names start with `utm_`.
    public func validate() throws(DomainError) {
        for (list, label) in [(visitor, "visitor"), (utm, "UTM")] {
            guard list.count <= 100 else { throw DomainError(.invalidArgument, "at most 100 \(label) fields") }
            for field in list {
                guard (1...64).contains(field.name.unicodeScalars.count), field.value.unicodeScalars.count <= 1_000 else {
                    throw DomainError(.invalidArgument, "a \(label) field has a 1–64 character name and a value of at most 1000")
                }
            }
        }
        for field in utm where !field.name.unicodeScalars.starts(with: "utm_".unicodeScalars) || field.name.unicodeScalars.count < 5 {
            throw DomainError(.invalidArgument, "UTM parameters are named utm_<something>, not \(field.name)")
        }
        let texts = [enquiry?.channel, enquiry?.channelDetail, enquiry?.language, enquiry?.location, device?.platform, device?.userAgent,
                     device?.screenSize, device?.localTime, device?.geoLocation, destination?.name, destination?.type, destination?.endpoint,
                     contact?.firstName, contact?.lastName, contact?.phone, contact?.email, contact?.timezone]
        for text in texts.compactMap({ $0 }) where text.unicodeScalars.count > 1_000 {
            throw DomainError(.invalidArgument, "room information values have at most 1000 characters")
        }
    }

    /// Sets visitor field `name` (staff adding what they learned), keeping the order.
    public mutating func setVisitorField(_ name: String, _ value: String) {
        if let index = visitor.firstIndex(where: { $0.name == name }) {
            visitor[index].value = value
        } else {
            visitor.append(Field(name: name, value: value))
        }
    }
}

/// Where an enquiry came from.
public struct EnquiryInfo: Sendable, Equatable {
    public var id: String
    public var channel: String
    public var channelDetail: String
    public var language: String
    public var location: String
    public var time: Timestamp

    public init(id: String, channel: String, channelDetail: String = "", language: String = "", location: String = "", time: Timestamp) {
        self.id = id
        self.channel = channel
        self.channelDetail = channelDetail
        self.language = language
        self.location = location
        self.time = time
    }
}

/// The visitor's device.
public struct DeviceInfo: Sendable, Equatable {
    public var platform: String
    public var userAgent: String
    public var screenSize: String
    public var localTime: String
    public var geoLocation: String

    public init(platform: String = "", userAgent: String = "", screenSize: String = "", localTime: String = "", geoLocation: String = "") {
        self.platform = platform
        self.userAgent = userAgent
        self.screenSize = screenSize
        self.localTime = localTime
        self.geoLocation = geoLocation
    }
}

/// The destination the enquiry was routed through.
public struct DestinationInfo: Sendable, Equatable {
    public var name: String
    public var type: String
    public var endpoint: String

    public init(name: String, type: String, endpoint: String) {
        self.name = name
        self.type = type
        self.endpoint = endpoint
    }
}

/// An external contact of a direct room.
public struct ContactInfo: Sendable, Equatable {
    public var firstName: String
    public var lastName: String
    public var phone: String
    public var email: String
    public var timezone: String

    public init(firstName: String = "", lastName: String = "", phone: String = "", email: String = "", timezone: String = "") {
        self.firstName = firstName
        self.lastName = lastName
        self.phone = phone
        self.email = email
        self.timezone = timezone
    }
}

/// A conference's host and participants (staff ids or external names).
public struct ConferenceInfo: Sendable, Equatable {
    public var host: StaffID
    public var participants: [String]

    public init(host: StaffID, participants: [String]) {
        self.host = host
        self.participants = participants
    }
}

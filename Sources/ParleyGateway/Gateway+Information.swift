import Hummingbird
import ParleyDomain
import ParleyRuntime

/// The Room Information panel as clients see it.
struct InformationResponse: Encodable {
    struct Field: Encodable {
        let name: String
        let value: String
    }

    struct Enquiry: Encodable {
        let id, channel, channelDetail, language, location, time: String

        enum CodingKeys: String, CodingKey {
            case id, channel, language, location, time
            case channelDetail = "channel_detail"
        }
    }

    struct Device: Encodable {
        let platform, userAgent, screenSize, localTime, geoLocation: String

        enum CodingKeys: String, CodingKey {
            case platform
            case userAgent = "user_agent"
            case screenSize = "screen_size"
            case localTime = "local_time"
            case geoLocation = "geo_location"
        }
    }

    struct Destination: Encodable {
        let name, type, endpoint: String
    }

    struct Contact: Codable {
        var firstName, lastName, phone, email, timezone: String?

        enum CodingKeys: String, CodingKey {
            case phone, email, timezone
            case firstName = "first_name"
            case lastName = "last_name"
        }
    }

    struct Conference: Encodable {
        let host: String
        let participants: [String]
    }

    let enquiry: Enquiry?
    let visitor: [Field]
    let device: Device?
    let utm: [Field]
    let destination: Destination?
    let contact: Contact?
    let conference: Conference?

    init(_ information: RoomInformation) {
        enquiry = information.enquiry.map {
            Enquiry(id: $0.id, channel: $0.channel, channelDetail: $0.channelDetail, language: $0.language, location: $0.location, time: RoomResponse.format($0.time))
        }
        visitor = information.visitor.map { Field(name: $0.name, value: $0.value) }
        device = information.device.map {
            Device(platform: $0.platform, userAgent: $0.userAgent, screenSize: $0.screenSize, localTime: $0.localTime, geoLocation: $0.geoLocation)
        }
        utm = information.utm.map { Field(name: $0.name, value: $0.value) }
        destination = information.destination.map { Destination(name: $0.name, type: $0.type, endpoint: $0.endpoint) }
        contact = information.contact.map { Contact(firstName: $0.firstName, lastName: $0.lastName, phone: $0.phone, email: $0.email, timezone: $0.timezone) }
        conference = information.conference.map { Conference(host: $0.host.rawValue, participants: $0.participants) }
    }
}

/// `PUT /v1/rooms/{roomID}/information/visitor/{field}`.
struct VisitorFieldRequest: RequestBody {
    var value: String

    init(_ fields: JSONFields) throws(GatewayError) { value = try fields.string("value") }
}

/// `PUT /v1/rooms/{roomID}/information/contact`.
struct ContactRequest: RequestBody {
    var firstName, lastName, phone, email, timezone: String?

    init(_ fields: JSONFields) throws(GatewayError) {
        firstName = try fields.optionalString("first_name")
        lastName = try fields.optionalString("last_name")
        phone = try fields.optionalString("phone")
        email = try fields.optionalString("email")
        timezone = try fields.optionalString("timezone")
    }
}

extension Gateway {
    func addInformationRoutes(to rooms: RouterGroup<BasicRequestContext>) {
        rooms.put(":roomID/information/visitor/:field") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(VisitorFieldRequest.self, from: request, limit: configuration.maxBodyBytes)
            let field = context.parameters.get("field") ?? ""
            let state = try await runtime.update(try Self.roomID(context), .setVisitorField(name: field, value: body.value, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }

        rooms.put(":roomID/information/contact") { request, context -> Response in
            let caller = try await caller(of: request)
            let body = try await JSONBody.decode(ContactRequest.self, from: request, limit: configuration.maxBodyBytes)
            let contact = ContactInfo(
                firstName: body.firstName ?? "", lastName: body.lastName ?? "", phone: body.phone ?? "", email: body.email ?? "", timezone: body.timezone ?? "")
            let state = try await runtime.update(try Self.roomID(context), .setContact(contact, by: caller.staff))
            return JSONBody.response(RoomResponse(state, for: caller.staff))
        }
    }
}

/// The binary form of room information: each part behind a presence byte, in a fixed order.
extension RoomInformation {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(enquiry != nil)
        if let enquiry {
            for text in [enquiry.id, enquiry.channel, enquiry.channelDetail, enquiry.language, enquiry.location] { writer.write(text) }
            writer.write(enquiry.time.milliseconds)
        }
        Self.encode(visitor, into: &writer)
        writer.write(device != nil)
        if let device {
            for text in [device.platform, device.userAgent, device.screenSize, device.localTime, device.geoLocation] { writer.write(text) }
        }
        Self.encode(utm, into: &writer)
        writer.write(destination != nil)
        if let destination { writer.write([destination.name, destination.type, destination.endpoint]) }
        writer.write(contact != nil)
        contact?.encode(into: &writer)
        writer.write(conference != nil)
        if let conference {
            writer.write(conference.host.rawValue)
            writer.write(conference.participants)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomInformation {
        var information = RoomInformation()
        if try reader.readBool() {
            let texts = try (0..<5).map { _ throws(DecodingError) in try reader.readString() }
            information.enquiry = EnquiryInfo(
                id: texts[0], channel: texts[1], channelDetail: texts[2], language: texts[3], location: texts[4],
                time: Timestamp(milliseconds: try reader.readInt64()))
        }
        information.visitor = try decodeFields(from: &reader)
        if try reader.readBool() {
            let texts = try (0..<5).map { _ throws(DecodingError) in try reader.readString() }
            information.device = DeviceInfo(platform: texts[0], userAgent: texts[1], screenSize: texts[2], localTime: texts[3], geoLocation: texts[4])
        }
        information.utm = try decodeFields(from: &reader)
        if try reader.readBool() {
            let texts = try reader.readStrings()
            guard texts.count == 3 else { throw DecodingError("a destination has 3 fields, not \(texts.count)") }
            information.destination = DestinationInfo(name: texts[0], type: texts[1], endpoint: texts[2])
        }
        if try reader.readBool() { information.contact = try ContactInfo.decode(from: &reader) }
        if try reader.readBool() {
            information.conference = ConferenceInfo(host: StaffID(unchecked: try reader.readString()), participants: try reader.readStrings())
        }
        return information
    }

    private static func encode(_ fields: [Field], into writer: inout BinaryWriter) {
        writer.writeVarint(UInt64(fields.count))
        for field in fields {
            writer.write(field.name)
            writer.write(field.value)
        }
    }

    private static func decodeFields(from reader: inout BinaryReader) throws(DecodingError) -> [Field] {
        let count = try reader.readVarint()
        guard count <= 10_000 else { throw DecodingError("too many fields: \(count)") }
        var fields: [Field] = []
        for _ in 0..<count { fields.append(Field(name: try reader.readString(), value: try reader.readString())) }
        return fields
    }
}

extension ContactInfo {
    public func encode(into writer: inout BinaryWriter) {
        writer.write([firstName, lastName, phone, email, timezone])
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> ContactInfo {
        let texts = try reader.readStrings()
        guard texts.count == 5 else { throw DecodingError("a contact has 5 fields, not \(texts.count)") }
        return ContactInfo(firstName: texts[0], lastName: texts[1], phone: texts[2], email: texts[3], timezone: texts[4])
    }
}

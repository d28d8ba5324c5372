// A room's information (enquiry, visitor, device, contact…) written by `JSONWriter`, keys in
// sorted order: it is part of every room a client reads.

extension InformationResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("conference", conference)
            object.field("contact", contact)
            object.field("destination", destination)
            object.field("device", device)
            object.field("enquiry", enquiry)
            object.field("utm", utm)
            object.field("visitor", visitor)
        }
    }
}

extension InformationResponse.Field: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("name", name)
            object.field("value", value)
        }
    }
}

extension InformationResponse.Enquiry: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("channel", channel)
            object.field("channel_detail", channelDetail)
            object.field("id", id)
            object.field("language", language)
            object.field("location", location)
            object.field("time", time)
        }
    }
}

extension InformationResponse.Device: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("geo_location", geoLocation)
            object.field("local_time", localTime)
            object.field("platform", platform)
            object.field("screen_size", screenSize)
            object.field("user_agent", userAgent)
        }
    }
}

extension InformationResponse.Destination: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("endpoint", endpoint)
            object.field("name", name)
            object.field("type", type)
        }
    }
}

extension InformationResponse.Contact: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("email", email)
            object.field("first_name", firstName)
            object.field("last_name", lastName)
            object.field("phone", phone)
            object.field("timezone", timezone)
        }
    }
}

extension InformationResponse.Conference: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("host", host)
            object.field("participants", participants)
        }
    }
}

/// The binary form of room commands, as one node forwards them to the node serving the room.
/// Tags and field order are part of the peer protocol: add new tags or trailing fields, never
/// renumber.
extension RoomCommand {
    private enum Tag: UInt8 {
        case create = 1
        case post = 2
        case edit = 3
        case recall = 4
        case markRead = 5
        case setMute = 6
        case join = 7
        case addMembers = 8
        case removeMember = 9
        case leave = 10
        case updateProfile = 11
        case openEnquiry = 12
        case setVisitorField = 13
        case setContact = 14
        case attachLinkPreviews = 15
        case setEnquiryOwner = 16
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .create(creation):
            writer.write(Tag.create.rawValue)
            writer.write(creation.kind.rawValue)
            writer.write(creation.name)
            writer.write(creation.description)
            writer.write(creation.visibility.rawValue)
            writer.write(creation.members.map(\.rawValue))
            writer.write(creation.creator.rawValue)
        case let .post(post):
            writer.write(Tag.post.rawValue)
            post.encode(into: &writer)
        case let .edit(seq, text, by):
            writer.write(Tag.edit.rawValue)
            writer.writeVarint(seq)
            writer.write(text)
            writer.write(by.rawValue)
        case let .recall(seq, by):
            writer.write(Tag.recall.rawValue)
            writer.writeVarint(seq)
            writer.write(by.rawValue)
        case let .markRead(upTo, by):
            writer.write(Tag.markRead.rawValue)
            writer.writeVarint(upTo)
            writer.write(by.rawValue)
        case let .setMute(setting, by):
            writer.write(Tag.setMute.rawValue)
            writer.write(setting.rawValue)
            writer.write(by.rawValue)
        case let .join(staff):
            writer.write(Tag.join.rawValue)
            writer.write(staff.rawValue)
        case let .addMembers(members, by):
            writer.write(Tag.addMembers.rawValue)
            writer.write(members.map(\.rawValue))
            writer.write(by.rawValue)
        case let .removeMember(member, by):
            writer.write(Tag.removeMember.rawValue)
            writer.write(member.rawValue)
            writer.write(by.rawValue)
        case let .leave(staff):
            writer.write(Tag.leave.rawValue)
            writer.write(staff.rawValue)
        case let .updateProfile(name, description, visibility, by):
            writer.write(Tag.updateProfile.rawValue)
            writer.write(name)
            writer.write(description)
            writer.write(visibility != nil)
            if let visibility { writer.write(visibility.rawValue) }
            writer.write(by.rawValue)
        case let .openEnquiry(opening):
            writer.write(Tag.openEnquiry.rawValue)
            writer.write(opening.title)
            writer.write(opening.staff.map(\.rawValue))
            opening.information.encode(into: &writer)
        case let .setVisitorField(name, value, by):
            writer.write(Tag.setVisitorField.rawValue)
            writer.write(name)
            writer.write(value)
            writer.write(by.rawValue)
        case let .setContact(contact, by):
            writer.write(Tag.setContact.rawValue)
            contact.encode(into: &writer)
            writer.write(by.rawValue)
        case let .attachLinkPreviews(seq, previews):
            writer.write(Tag.attachLinkPreviews.rawValue)
            writer.writeVarint(seq)
            writer.writeVarint(UInt64(previews.count))
            for preview in previews { preview.encode(into: &writer) }
        case let .setEnquiryOwner(owner, replacing):
            writer.write(Tag.setEnquiryOwner.rawValue)
            writer.write(owner.rawValue)
            writer.write(replacing?.rawValue)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> RoomCommand {
        func staff() throws(DecodingError) -> StaffID { StaffID(unchecked: try reader.readString()) }
        func staffList() throws(DecodingError) -> [StaffID] { try reader.readStrings().map { StaffID(unchecked: $0) } }
        let tag = try reader.read(Tag.self, "room command tag")
        switch tag {
        case .create:
            let kind = try reader.read(RoomKind.self, "room kind")
            let name = try reader.readString()
            let description = try reader.readString()
            let visibility = try reader.read(RoomVisibility.self, "room visibility")
            let members = try staffList()
            return .create(RoomCreation(kind: kind, name: name, description: description, visibility: visibility, members: members, creator: try staff()))
        case .post:
            return .post(try MessagePost.decode(from: &reader))
        case .edit:
            let seq = try reader.readVarint()
            let text = try reader.readString()
            return .edit(seq: seq, text: text, by: try staff())
        case .recall:
            let seq = try reader.readVarint()
            return .recall(seq: seq, by: try staff())
        case .markRead:
            let upTo = try reader.readVarint()
            return .markRead(upTo: upTo, by: try staff())
        case .setMute:
            let setting = try reader.read(MuteSetting.self, "mute setting")
            return .setMute(setting, by: try staff())
        case .join:
            return .join(try staff())
        case .addMembers:
            let members = try staffList()
            return .addMembers(members, by: try staff())
        case .removeMember:
            let member = try staff()
            return .removeMember(member, by: try staff())
        case .leave:
            return .leave(try staff())
        case .updateProfile:
            let name = try reader.readOptionalString()
            let description = try reader.readOptionalString()
            let visibility = try reader.readBool() ? try reader.read(RoomVisibility.self, "room visibility") : nil
            return .updateProfile(name: name, description: description, visibility: visibility, by: try staff())
        case .openEnquiry:
            let title = try reader.readString()
            let members = try staffList()
            return .openEnquiry(EnquiryOpening(title: title, staff: members, information: try RoomInformation.decode(from: &reader)))
        case .setVisitorField:
            let name = try reader.readString()
            let value = try reader.readString()
            return .setVisitorField(name: name, value: value, by: try staff())
        case .setContact:
            let contact = try ContactInfo.decode(from: &reader)
            return .setContact(contact, by: try staff())
        case .attachLinkPreviews:
            let seq = try reader.readVarint()
            let count = try reader.readCount(atMost: LinkPreview.maxPerMessage, of: "link previews")
            let previews = try (0..<count).map { _ throws(DecodingError) in try LinkPreview.decode(from: &reader) }
            return .attachLinkPreviews(seq: seq, previews)
        case .setEnquiryOwner:
            let owner = StaffID(unchecked: try reader.readString())
            return .setEnquiryOwner(owner, replacing: try reader.readOptionalString().map(StaffID.init(unchecked:)))
        }
    }
}

extension MessagePost {
    public func encode(into writer: inout BinaryWriter) {
        writer.write(author.rawValue)
        writer.write(text)
        writer.write(idempotencyKey)
        writer.writeOptionalVarint(replyTo)
        writer.write(forwarding != nil)
        if let forwarding {
            forwarding.0.encode(into: &writer)
            writer.write(forwarding.1.rawValue)
        }
        writer.write(attachment != nil)
        attachment?.encode(into: &writer)
        writer.write(quickLink != nil)
        quickLink?.encode(into: &writer)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> MessagePost {
        let author = StaffID(unchecked: try reader.readString())
        let text = try reader.readString()
        let key = try reader.readOptionalString()
        let replyTo = try reader.readOptionalVarint()
        var forwarding: (Message, RoomID)?
        if try reader.readBool() {
            let message = try Message.decode(from: &reader)
            forwarding = (message, RoomID(unchecked: try reader.readString()))
        }
        let attachment = try reader.readBool() ? try FileAttachment.decode(from: &reader) : nil
        let quickLink = try reader.readBool() ? try Shortcut.decode(from: &reader) : nil
        return MessagePost(
            author: author, text: text, idempotencyKey: key, replyTo: replyTo, forwarding: forwarding, attachment: attachment, quickLink: quickLink)
    }
}

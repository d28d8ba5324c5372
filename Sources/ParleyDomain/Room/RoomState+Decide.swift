extension RoomState {
    /// Decides `command` at `now`: the events to record, or the rule it breaks. Pure: the
    /// messages an edit, recall or reply is about come from `message`.
    public func decide(
        _ command: RoomCommand,
        now: Timestamp,
        limits: RoomLimits = RoomLimits(),
        message: (UInt64) -> Message? = { _ in nil }
    ) throws(DomainError) -> [RoomEvent] {
        if case let .create(creation) = command {
            return try decideCreate(creation, now: now, limits: limits)
        }
        if case let .openEnquiry(opening) = command {
            return try decideOpenEnquiry(opening, now: now, limits: limits)
        }
        guard let profile else { throw DomainError(.roomNotFound, "room \(id) does not exist") }
        switch command {
        case .create, .openEnquiry:
            preconditionFailure("handled above")
        case let .setVisitorField(name, value, staff):
            _ = try requireMember(staff)
            guard profile.kind == .enquiry else { throw DomainError(.unsupportedRoomKind, "visitor information belongs to enquiry rooms") }
            var updated = information
            updated.setVisitorField(name.trimmingWhitespace(), value)
            try updated.validate()
            return updated == information ? [] : [.informationUpdated(updated)]
        case let .setContact(contact, staff):
            _ = try requireMember(staff)
            guard profile.kind == .direct else { throw DomainError(.unsupportedRoomKind, "contact information belongs to direct rooms") }
            var updated = information
            updated.contact = contact
            try updated.validate()
            return updated == information ? [] : [.informationUpdated(updated)]
        case let .post(post):
            return try decidePost(post, now: now, limits: limits, message: message)
        case let .edit(seq, text, staff):
            var edited = try ownMessageInWindow(seq, by: staff, now: now, limits: limits, message: message)
            try validate(text: text, limits: limits)
            edited.text = text
            (edited.mentions, edited.mentionsAll) = Mentions.parse(text) { members[$0] != nil }
            edited.editedAt = now
            // Previews of links the new text no longer has go; new links are previewed later.
            let links = LinkPreview.links(in: text)
            edited.linkPreviews.removeAll { !links.contains($0.url) }
            return [.messageEdited(edited)]
        case let .setEnquiryOwner(owner, replacing):
            guard profile.kind == .enquiry else { throw DomainError(.unsupportedRoomKind, "only enquiry rooms have an owner") }
            var events: [RoomEvent] = []
            // The new owner sees the conversation so far as unread.
            if members[owner] == nil { events.append(.membersAdded([owner], by: .notices, joinedAt: now, readSeq: 0)) }
            if let replacing, replacing != owner, members[replacing] != nil { events.append(.memberRemoved(replacing, by: .notices)) }
            return events
        case let .attachLinkPreviews(seq, previews):
            // Late by nature: the message may have changed or gone since the fetch began.
            guard var previewed = message(seq), !previewed.isRecalled else { return [] }
            let links = LinkPreview.links(in: previewed.text)
            var merged = previewed.linkPreviews.filter { old in !previews.contains { $0.url == old.url } }
            merged += previews.filter { links.contains($0.url) }
            merged.sort { (links.firstIndex(of: $0.url) ?? 0) < (links.firstIndex(of: $1.url) ?? 0) }
            guard merged != previewed.linkPreviews else { return [] }
            previewed.linkPreviews = merged
            return [.messagePreviewed(previewed)]
        case let .recall(seq, staff):
            var recalled = try ownMessageInWindow(seq, by: staff, now: now, limits: limits, message: message)
            let removedFile = recalled.attachment?.id
            recalled.text = ""
            recalled.mentions = []
            recalled.mentionsAll = false
            recalled.replyTo = nil
            recalled.forwardedFrom = nil
            recalled.attachment = nil
            recalled.quickLink = nil
            recalled.linkPreviews = []
            recalled.recalledAt = now
            return [.messageRecalled(recalled, removedFile: removedFile)]
        case let .markRead(upTo, staff):
            let member = try requireMember(staff)
            let target = min(upTo, lastSeq)
            return target > member.readSeq ? [.readPointerMoved(staff, seq: target)] : []
        case let .setMute(setting, staff):
            let member = try requireMember(staff)
            if setting == .mentionsOnly, profile.kind != .space {
                throw DomainError(.unsupportedRoomKind, "@mentions-only applies to space rooms; enquiry and direct rooms are muted or not")
            }
            return member.mute == setting ? [] : [.muteChanged(staff, setting)]
        case let .join(staff):
            guard members[staff] == nil else { return [] }
            guard profile.kind == .space, profile.visibility == .public else {
                throw DomainError(.notAMember, "room \(id) is not a public space; a member must add \(staff)")
            }
            try checkRoomForMembers(1, limits: limits)
            return [.membersAdded([staff], by: staff, joinedAt: now, readSeq: lastSeq)]
        case let .addMembers(added, staff):
            _ = try requireMember(staff)
            try requireGroup(profile)
            var fresh: [StaffID] = []
            for member in added where members[member] == nil && !fresh.contains(member) { fresh.append(member) }
            try checkRoomForMembers(fresh.count, limits: limits)
            return fresh.isEmpty ? [] : [.membersAdded(fresh, by: staff, joinedAt: now, readSeq: lastSeq)]
        case let .removeMember(removed, staff):
            _ = try requireMember(staff)
            try requireGroup(profile)
            guard staff == profile.createdBy || staff == removed else {
                throw DomainError(.forbidden, "only the space's creator removes other members")
            }
            guard members[removed] != nil else { return [] }
            return [.memberRemoved(removed, by: staff)]
        case let .leave(staff):
            _ = try requireMember(staff)
            try requireGroup(profile)
            return [.memberRemoved(staff, by: staff)]
        case let .updateProfile(name, description, visibility, staff):
            _ = try requireMember(staff)
            try requireGroup(profile)
            var updated = profile
            if let name {
                updated.name = try validName(name, limits: limits)
            }
            if let description {
                guard description.unicodeScalars.count <= limits.maxDescriptionLength else {
                    throw DomainError(.invalidArgument, "description is longer than \(limits.maxDescriptionLength) characters")
                }
                updated.description = description
            }
            if let visibility { updated.visibility = visibility }
            return updated == profile ? [] : [.profileUpdated(updated)]
        }
    }

    private func decideCreate(_ creation: RoomCreation, now: Timestamp, limits: RoomLimits) throws(DomainError) -> [RoomEvent] {
        // Checked for every kind, also where a kind has no use for them (direct rooms).
        if !creation.name.isEmpty { _ = try validName(creation.name, limits: limits) }
        guard creation.description.unicodeScalars.count <= limits.maxDescriptionLength else {
            throw DomainError(.invalidArgument, "description is longer than \(limits.maxDescriptionLength) characters")
        }
        switch creation.kind {
        case .space: break
        case .direct: return try decideOpenDirect(creation, now: now)
        case .conference: return try decideOpenConference(creation, now: now, limits: limits)
        case .enquiry: throw DomainError(.unsupportedRoomKind, "enquiry rooms are opened by enquiry routing, not created directly")
        }
        guard !exists else { throw DomainError(.roomAlreadyExists, "room \(id) already exists") }
        let name = try validName(creation.name, limits: limits)
        var members = [creation.creator]
        for member in creation.members where !members.contains(member) {
            members.append(member)
        }
        guard members.count <= limits.maxMembers else {
            throw DomainError(.tooManyMembers, "a room has at most \(limits.maxMembers) members")
        }
        let profile = RoomProfile(
            kind: creation.kind, name: name, description: creation.description,
            visibility: creation.visibility, createdBy: creation.creator, createdAt: now)
        return [.created(profile, members: members)]
    }

    /// A direct room joins its creator and one other staff member (or only its creator: notes
    /// to self); opening the same pair's room again changes nothing (its id is derived from
    /// the pair).
    private func decideOpenDirect(_ creation: RoomCreation, now: Timestamp) throws(DomainError) -> [RoomEvent] {
        let others = Array(Set(creation.members).subtracting([creation.creator]))
        guard others.count <= 1 else { throw DomainError(.invalidArgument, "a direct room has exactly one other member") }
        let pair = Set([creation.creator] + others)
        if exists {
            guard Set(members.keys) == pair else { throw DomainError(.roomAlreadyExists, "room \(id) already exists") }
            return []
        }
        let profile = RoomProfile(kind: .direct, name: "", description: "", visibility: .private, createdBy: creation.creator, createdAt: now)
        return [.created(profile, members: [creation.creator] + others)]
    }

    private func decideOpenConference(_ creation: RoomCreation, now: Timestamp, limits: RoomLimits) throws(DomainError) -> [RoomEvent] {
        guard !exists else { throw DomainError(.roomAlreadyExists, "room \(id) already exists") }
        let name = try validName(creation.name, limits: limits)
        var members = [creation.creator]
        for member in creation.members where !members.contains(member) { members.append(member) }
        guard members.count <= limits.maxMembers else { throw DomainError(.tooManyMembers, "a room has at most \(limits.maxMembers) members") }
        let profile = RoomProfile(kind: .conference, name: name, description: creation.description, visibility: .private, createdBy: creation.creator, createdAt: now)
        let information = RoomInformation(conference: ConferenceInfo(host: creation.creator, participants: members.map(\.rawValue)))
        return [.created(profile, members: members), .informationUpdated(information)]
    }

    private func decideOpenEnquiry(_ opening: EnquiryOpening, now: Timestamp, limits: RoomLimits) throws(DomainError) -> [RoomEvent] {
        guard !exists else { throw DomainError(.roomAlreadyExists, "room \(id) already exists") }
        guard !opening.staff.isEmpty, opening.staff.count <= limits.maxMembers else {
            throw DomainError(.invalidArgument, "an enquiry room is opened for 1 to \(limits.maxMembers) staff members")
        }
        try opening.information.validate()
        let name = try validName(opening.title, limits: limits)
        var members: [StaffID] = []
        for member in opening.staff where !members.contains(member) { members.append(member) }
        let profile = RoomProfile(kind: .enquiry, name: name, description: "", visibility: .private, createdBy: members[0], createdAt: now)
        return [.created(profile, members: members), .informationUpdated(opening.information)]
    }

    private func decidePost(_ post: MessagePost, now: Timestamp, limits: RoomLimits, message: (UInt64) -> Message?) throws(DomainError) -> [RoomEvent] {
        // The node's notices (only internal callers may author them: `authorize`).
        if post.author != .notices || profile?.kind != .enquiry { _ = try requireMember(post.author) }
        if (post.forwarding == nil && post.attachment == nil) || !post.text.isEmpty {
            try validate(text: post.text, limits: limits)
        }
        if let attachment = post.attachment {
            try FileAttachment.validate(name: attachment.name, limits: limits)
            guard attachment.sha256.count == 32 else { throw DomainError(.invalidArgument, "a file checksum is 32 bytes") }
        }
        if let key = post.idempotencyKey, key.isEmpty || key.utf8.count > limits.maxIdempotencyKeyLength {
            throw DomainError(.invalidArgument, "an idempotency key has 1 to \(limits.maxIdempotencyKeyLength) bytes")
        }
        var posted = Message(seq: lastSeq + 1, author: post.author, text: post.text, postedAt: now, idempotencyKey: post.idempotencyKey)
        posted.attachment = post.attachment
        posted.quickLink = post.quickLink
        if let replyTo = post.replyTo {
            guard let original = message(replyTo), !original.isRecalled else {
                throw DomainError(.messageNotFound, "room \(id) has no message \(replyTo) to reply to")
            }
            posted.replyTo = Quote(reference: MessageReference(room: id, seq: replyTo), author: original.author, excerpt: excerpt(original.text, limits))
        }
        if let (original, origin) = post.forwarding {
            guard !original.isRecalled else { throw DomainError(.messageNotFound, "a recalled message cannot be forwarded") }
            posted.forwardedFrom = Quote(reference: MessageReference(room: origin, seq: original.seq), author: original.author, excerpt: excerpt(original.text, limits))
            if posted.text.isEmpty { posted.text = original.text }
            if original.attachment != nil, origin != id {
                // The file's bytes live in the origin room's partition: the forward quotes it.
                posted.forwardedFrom?.excerpt = excerpt(original.text.isEmpty ? "[\(original.attachment?.kind.name ?? "file")] \(original.attachment?.name ?? "")" : original.text, limits)
            }
        }
        (posted.mentions, posted.mentionsAll) = Mentions.parse(post.text) { members[$0] != nil }
        // Posting reads the room up to the new message for its author.
        return [.messagePosted(posted), .readPointerMoved(post.author, seq: posted.seq)]
    }

    private func ownMessageInWindow(
        _ seq: UInt64, by staff: StaffID, now: Timestamp, limits: RoomLimits, message: (UInt64) -> Message?
    ) throws(DomainError) -> Message {
        _ = try requireMember(staff)
        guard let target = message(seq) else { throw DomainError(.messageNotFound, "room \(id) has no message \(seq)") }
        guard target.author == staff else { throw DomainError(.notTheAuthor, "only the author changes message \(seq)") }
        guard !target.isRecalled else { throw DomainError(.messageRecalled, "message \(seq) was recalled") }
        guard now.milliseconds - target.postedAt.milliseconds <= limits.editWindowMilliseconds else {
            throw DomainError(.editWindowExpired, "message \(seq) was posted more than \(limits.editWindowMilliseconds / 60_000) minutes ago")
        }
        return target
    }

    private func requireMember(_ staff: StaffID) throws(DomainError) -> MemberState {
        guard let member = members[staff] else { throw DomainError(.notAMember, "\(staff) is not a member of room \(id)") }
        return member
    }

    private func requireGroup(_ profile: RoomProfile) throws(DomainError) {
        guard profile.kind == .space else {
            throw DomainError(.unsupportedRoomKind, "membership of \(profile.kind.name) rooms is fixed by their own flow")
        }
    }

    private func checkRoomForMembers(_ count: Int, limits: RoomLimits) throws(DomainError) {
        guard members.count + count <= limits.maxMembers else {
            throw DomainError(.tooManyMembers, "a room has at most \(limits.maxMembers) members")
        }
    }

    private func validName(_ raw: String, limits: RoomLimits) throws(DomainError) -> String {
        let name = raw.trimmingWhitespace()
        guard !name.isEmpty else { throw DomainError(.invalidArgument, "name must not be blank") }
        guard name.unicodeScalars.count <= limits.maxNameLength else {
            throw DomainError(.invalidArgument, "name is longer than \(limits.maxNameLength) characters")
        }
        return name
    }

    private func validate(text: String, limits: RoomLimits) throws(DomainError) {
        guard !text.trimmingWhitespace().isEmpty else { throw DomainError(.emptyMessage, "a message needs text") }
        guard text.unicodeScalars.count <= limits.maxTextLength else {
            throw DomainError(.messageTooLong, "text is longer than \(limits.maxTextLength) characters")
        }
    }

    private func excerpt(_ text: String, _ limits: RoomLimits) -> String {
        text.count <= limits.maxExcerptLength ? text : String(text.prefix(limits.maxExcerptLength)) + "…"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

// The hot path's responses written by `JSONWriter`: keys in sorted order, as the encoder's
// `.sortedKeys` writes them.

extension MessageResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("attachment", attachment)
            object.field("author", author)
            object.field("edited_at", editedAt)
            object.field("forwarded_from", forwardedFrom)
            object.field("idempotency_key", idempotencyKey)
            object.field("link_previews", linkPreviews)
            object.field("mentions", mentions)
            object.field("mentions_all", mentionsAll)
            object.field("posted_at", postedAt)
            object.field("quick_link", quickLink)
            object.field("recalled", recalled)
            object.field("recalled_at", recalledAt)
            object.field("reply_to", replyTo)
            object.field("room_id", roomID)
            object.field("seq", seq)
            object.field("text", text)
        }
    }
}

extension EventResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("by", by)
            object.field("event_seq", eventSeq)
            object.field("members", members)
            object.field("message", message)
            object.field("mute", mute)
            object.field("read_seq", readSeq)
            object.field("room", room)
            object.field("room_id", roomID)
            object.field("staff", staff)
            object.field("type", type)
        }
    }
}

extension EventResponse.RoomSummary: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("description", description)
            object.field("name", name)
            object.field("visibility", visibility)
        }
    }
}

extension QuoteResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("author", author)
            object.field("excerpt", excerpt)
            object.field("room_id", roomID)
            object.field("seq", seq)
        }
    }
}

extension AttachmentResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("content_type", contentType)
            object.field("id", id)
            object.field("kind", kind)
            object.field("name", name)
            object.field("sha256", sha256)
            object.field("size", size)
            object.field("url", url)
        }
    }
}

extension ShortcutResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("code", code)
            object.field("kind", kind)
            object.field("title", title)
            object.field("value", value)
        }
    }
}

extension LinkPreviewResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("description", description)
            object.field("image_url", imageURL)
            object.field("site_name", siteName)
            object.field("title", title)
            object.field("url", url)
        }
    }
}

extension HistoryResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("messages", messages)
            object.field("room_id", roomID)
        }
    }
}

extension JournalResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("events", events)
            object.field("oldest_kept", oldestKept)
            object.field("room_id", roomID)
        }
    }
}

extension RoomResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("created_at", createdAt)
            object.field("created_by", createdBy)
            object.field("description", description)
            object.field("id", id)
            object.field("information", information)
            object.field("kind", kind)
            object.field("last_event_seq", lastEventSeq)
            object.field("last_seq", lastSeq)
            object.field("me", me)
            object.field("members", members)
            object.field("name", name)
            object.field("visibility", visibility)
        }
    }
}

extension RoomResponse.Me: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("mute", mute)
            object.field("read_seq", readSeq)
            object.field("unread_count", unreadCount)
        }
    }
}

extension RecentConnectionsResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("rooms", rooms)
            object.field("unread_rooms", UInt64(clamping: unreadRooms))
        }
    }
}

extension RecentConnectionResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { object in
            object.field("last_activity", lastActivity)
            object.field("last_message", lastMessage)
            object.field("room", room)
        }
    }
}

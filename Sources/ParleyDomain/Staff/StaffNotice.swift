/// What a room tells one of its members' staff entities: cross-entity effects, delivered
/// through the durable outbox at least once and applied once (by the room's event seq).
public enum StaffNotice: Sendable, Equatable {
    /// The staff member became a member of the room.
    case joined(RoomKind)
    /// The staff member is no longer a member.
    case left
    /// The room went from all-read to unread for them, or back.
    case unread(Bool)
    /// A message mentioned them; `notify` is false when their mute setting silences it.
    case mentioned(seq: UInt64, by: StaffID, at: Timestamp, notify: Bool)
}

/// The notices one room event owes its members.
public enum RoomNotices {
    /// The notices the events of one command owe, per staff member, computed against the room
    /// as it was before them (`before`). Only transitions are noticed (a room becoming unread,
    /// not every message), so a busy room costs its members nothing until they catch up.
    public static func compute(before: RoomState, events: [RoomEvent]) -> [(staff: StaffID, eventSeq: UInt64, notice: StaffNotice)] {
        var state = before
        var notices: [(StaffID, UInt64, StaffNotice)] = []
        // Whether a member's index shows the room unread, where this command changed it;
        // otherwise it is as `before` left it. (An author's own post, read by them in the
        // same command, never makes the room unread for them: no notice either way.)
        var shownUnread: [StaffID: Bool] = [:]
        for event in events {
            // The state before this event (a copy that shares storage until `apply` writes).
            let previous = state
            state.apply(event)
            let eventSeq = state.lastEventSeq
            switch event {
            case let .created(profile, members):
                for member in members { notices.append((member, eventSeq, .joined(profile.kind))) }
            case let .membersAdded(added, _, _, _):
                let kind = state.profile?.kind ?? .space
                for member in added where previous.members[member] == nil { notices.append((member, eventSeq, .joined(kind))) }
            case let .memberRemoved(staff, _):
                notices.append((staff, eventSeq, .left))
            case let .messagePosted(message):
                var owed: [(StaffID, UInt64, StaffNotice)] = []
                for (member, standing) in state.members where member != message.author {
                    // Only members who had read everything get a notice: the room turned unread.
                    if standing.readSeq >= previous.lastSeq, state.unreadCount(for: member) > 0 {
                        owed.append((member, eventSeq, .unread(true)))
                        shownUnread[member] = true
                    }
                    if message.mentions(member) {
                        owed.append((member, eventSeq, .mentioned(seq: message.seq, by: message.author, at: message.postedAt, notify: standing.mute.notifies(member, of: message))))
                    }
                }
                // Deterministic order: by member, the unread notice before the mention.
                notices += owed.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            case let .readPointerMoved(staff, _):
                if shownUnread[staff] ?? (before.unreadCount(for: staff) > 0), state.unreadCount(for: staff) == 0 {
                    notices.append((staff, eventSeq, .unread(false)))
                    shownUnread[staff] = false
                }
            case .messageEdited, .messageRecalled, .messagePreviewed, .muteChanged, .profileUpdated, .informationUpdated:
                break
            }
        }
        return notices
    }
}

extension StaffNotice {
    private enum Tag: UInt8 {
        case joined = 1
        case left = 2
        case unread = 3
        case mentioned = 4
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .joined(kind):
            writer.write(Tag.joined.rawValue)
            writer.write(kind.rawValue)
        case .left:
            writer.write(Tag.left.rawValue)
        case let .unread(unread):
            writer.write(Tag.unread.rawValue)
            writer.write(unread)
        case let .mentioned(seq, by, at, notify):
            writer.write(Tag.mentioned.rawValue)
            writer.writeVarint(seq)
            writer.write(by.rawValue)
            writer.write(at.milliseconds)
            writer.write(notify)
        }
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> StaffNotice {
        let raw = try reader.readUInt8()
        switch Tag(rawValue: raw) {
        case .joined:
            let rawKind = try reader.readUInt8()
            guard let kind = RoomKind(rawValue: rawKind) else { throw DecodingError("unknown room kind \(rawKind)") }
            return .joined(kind)
        case .left: return .left
        case .unread: return .unread(try reader.readBool())
        case .mentioned:
            return .mentioned(
                seq: try reader.readVarint(), by: StaffID(unchecked: try reader.readString()),
                at: Timestamp(milliseconds: try reader.readInt64()), notify: try reader.readBool())
        case nil:
            throw DecodingError("unknown staff notice tag \(raw)")
        }
    }
}

extension RoomNotices {
    /// The notices as effects: one `StaffCommand.deliver` to each member's staff entity per
    /// (member, event), in the order computed.
    public static func effects(before: RoomState, events: [RoomEvent]) -> [Effect] {
        var order: [(staff: StaffID, eventSeq: UInt64)] = []
        var grouped: [StaffID: [UInt64: [StaffNotice]]] = [:]
        // Visitors and the node's notices have no staff entity to tell.
        for (staff, eventSeq, notice) in compute(before: before, events: events) where staff.isStaff {
            if grouped[staff]?[eventSeq] == nil { order.append((staff, eventSeq)) }
            grouped[staff, default: [:]][eventSeq, default: []].append(notice)
        }
        return order.map { staff, eventSeq in
            .send(StaffCommand.deliver(room: before.id, eventSeq: eventSeq, notices: grouped[staff]?[eventSeq] ?? []), to: staff.rawValue, of: StaffState.self)
        }
    }
}

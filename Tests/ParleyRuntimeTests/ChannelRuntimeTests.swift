import Foundation
import ParleyDomain
import Testing

@testable import ParleyRuntime

@Suite("Channel actors")
struct ChannelRuntimeTests {
    @Test func channelsAndTheirQuickLinksSurviveReopen() async throws {
        let dir = NSTemporaryDirectory() + "parley-channel-reopen-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = [ChannelID(unchecked: "ch_a"), ChannelID(unchecked: "ch_b")]
        let room = try await withRuntime(directory: dir) { runtime in
            _ = try await runtime.channelCommand(.create(name: "Site", kind: .weblink, webLink: "https://x.example", phoneNumber: nil), for: ids[0])
            _ = try await runtime.channelCommand(.setShortcut(Shortcut(code: "hours", kind: .text, title: "", value: "9 to 5")), for: ids[0])
            _ = try await runtime.channelCommand(.create(name: "Hotline", kind: .phone, webLink: nil, phoneNumber: "+85230001234"), for: ids[1])
            await #expect(throws: RuntimeError.self) {
                try await runtime.channelCommand(.create(name: "Again", kind: .line, webLink: nil, phoneNumber: nil), for: ids[1])
            }
            return try await runtime.createRoom(RoomCreation(kind: .space, name: "Desk", members: [bo], creator: admin)).id
        }
        try await withRuntime(directory: dir) { runtime in
            let channels = try await runtime.allChannels()
            #expect(channels.map(\.id) == ids)
            #expect(channels[0].quickLinks.map(\.code) == ["web-link", "hours"])
            #expect(channels[1].profile?.kind == .phone)
            let sent = try await runtime.sendShortcut("hours", from: .channel(ids[0]), in: room, by: bo)
            #expect(sent.message.text == "9 to 5" && sent.message.quickLink?.code == "hours")
            let phone = try await runtime.sendShortcut("phone", from: .channel(ids[1]), in: room, by: bo)
            #expect(phone.message.text == "Hotline: +85230001234")
        }
    }
}

/// The kinds of channel an enquiry can arrive from.
public enum ChannelKind: UInt8, Sendable, CaseIterable {
    case widget = 1
    case weblink = 2
    case phone = 3
    case facebook = 4
    case wechat = 5
    case whatsapp = 6
    case line = 7
    case thirdParty = 8

    public var name: String {
        ["widget", "weblink", "phone", "facebook", "wechat", "whatsapp", "line", "third_party"][Int(rawValue) - 1]
    }

    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// What a channel is: its name and kind, and the web link and phone number staff can send
/// as the channel's quick links.
public struct ChannelProfile: Sendable, Equatable {
    public var name: String
    public var kind: ChannelKind
    public var webLink: String?
    public var phoneNumber: String?
    public var createdAt: Timestamp

    public init(name: String, kind: ChannelKind, webLink: String? = nil, phoneNumber: String? = nil, createdAt: Timestamp) {
        self.name = name
        self.kind = kind
        self.webLink = webLink
        self.phoneNumber = phoneNumber
        self.createdAt = createdAt
    }

    func validate() throws(DomainError) {
        guard (1...100).contains(name.unicodeScalars.count) else { throw DomainError(.invalidArgument, "a channel name has 1 to 100 characters") }
        for shortcut in builtInQuickLinks { try shortcut.validate() }
    }

    /// The quick links every channel with a web link or phone number has.
    var builtInQuickLinks: [Shortcut] {
        var links: [Shortcut] = []
        if let webLink { links.append(Shortcut(code: ChannelState.webLinkCode, kind: .link, title: name, value: webLink)) }
        if let phoneNumber { links.append(Shortcut(code: ChannelState.phoneCode, kind: .phone, title: name, value: phoneNumber)) }
        return links
    }
}

/// What an admin asks of a channel. In `update`, a nil field is left as it is and an empty
/// web link or phone number removes it.
public enum ChannelCommand: Sendable, Equatable {
    case create(name: String, kind: ChannelKind, webLink: String?, phoneNumber: String?)
    case update(name: String?, webLink: String?, phoneNumber: String?)
    /// Adds or replaces one of the channel's own shortcuts.
    case setShortcut(Shortcut)
    case removeShortcut(code: String)
    /// Routing settings, welcome and away messages, display-name format.
    case setSourceSettings(SourceSettings)
}

/// What happened to a channel.
public enum ChannelEvent: Sendable, Equatable {
    case created(ChannelProfile)
    case updated(ChannelProfile)
    case shortcutSet(Shortcut)
    case shortcutRemoved(code: String)
    case sourceSettingsSet(SourceSettings)
}

/// A channel as its actor holds it.
public struct ChannelState: Sendable, Equatable {
    public let id: ChannelID
    public private(set) var profile: ChannelProfile?
    /// The channel's own shortcuts, by code (the built-in ones are not here).
    public private(set) var shortcuts: [String: Shortcut]
    /// What it does with its enquiries.
    public internal(set) var settings: SourceSettings

    /// Code of the quick link to the channel's web link.
    public static let webLinkCode = "web-link"
    /// Code of the quick link to the channel's phone number.
    public static let phoneCode = "phone"
    public static let maxShortcuts = 200

    public init(id: ChannelID, profile: ChannelProfile? = nil, shortcuts: [String: Shortcut] = [:], settings: SourceSettings = SourceSettings()) {
        self.id = id
        self.settings = settings
        self.profile = profile
        self.shortcuts = shortcuts
    }

    public var exists: Bool { profile != nil }

    /// Every quick link staff can send for this channel: web link and phone number first,
    /// then its own shortcuts by code.
    public var quickLinks: [Shortcut] {
        (profile?.builtInQuickLinks ?? []) + shortcuts.values.sorted { $0.code < $1.code }
    }

    /// The quick link `code`, if the channel has it.
    public func quickLink(_ code: String) -> Shortcut? {
        profile?.builtInQuickLinks.first { $0.code == code } ?? shortcuts[code]
    }

    public func decide(_ command: ChannelCommand, now: Timestamp) throws(DomainError) -> [ChannelEvent] {
        switch command {
        case let .create(name, kind, webLink, phoneNumber):
            guard !exists else { throw DomainError(.channelAlreadyExists, "channel \(id) already exists") }
            let profile = ChannelProfile(
                name: name.trimmingWhitespace(), kind: kind, webLink: webLink.nonEmpty, phoneNumber: phoneNumber.nonEmpty, createdAt: now)
            try profile.validate()
            return [.created(profile)]
        case let .update(name, webLink, phoneNumber):
            guard var profile else { throw DomainError(.channelNotFound, "no channel \(id)") }
            if let name { profile.name = name.trimmingWhitespace() }
            if let webLink { profile.webLink = webLink.isEmpty ? nil : webLink }
            if let phoneNumber { profile.phoneNumber = phoneNumber.isEmpty ? nil : phoneNumber }
            try profile.validate()
            return profile == self.profile ? [] : [.updated(profile)]
        case let .setShortcut(shortcut):
            guard exists else { throw DomainError(.channelNotFound, "no channel \(id)") }
            try shortcut.validate()
            guard shortcut.code != Self.webLinkCode, shortcut.code != Self.phoneCode else {
                throw DomainError(.shortcutReserved, "\(shortcut.code) is the channel's own \(shortcut.code == Self.phoneCode ? "phone number" : "web link"): set it on the channel")
            }
            guard shortcuts[shortcut.code] != nil || shortcuts.count < Self.maxShortcuts else {
                throw DomainError(.invalidArgument, "a channel has at most \(Self.maxShortcuts) shortcuts")
            }
            return shortcuts[shortcut.code] == shortcut ? [] : [.shortcutSet(shortcut)]
        case let .removeShortcut(code):
            guard exists else { throw DomainError(.channelNotFound, "no channel \(id)") }
            guard shortcuts[code] != nil else { throw DomainError(.shortcutNotFound, "channel \(id) has no shortcut \(code)") }
            return [.shortcutRemoved(code: code)]
        case let .setSourceSettings(settings):
            guard exists else { throw DomainError(.channelNotFound, "no channel \(id)") }
            try settings.validate()
            return settings == self.settings ? [] : [.sourceSettingsSet(settings)]
        }
    }

    public mutating func apply(_ event: ChannelEvent) {
        switch event {
        case let .created(profile), let .updated(profile):
            self.profile = profile
        case let .shortcutSet(shortcut):
            shortcuts[shortcut.code] = shortcut
        case let .shortcutRemoved(code):
            shortcuts[code] = nil
        case let .sourceSettingsSet(settings):
            self.settings = settings
        }
    }
}

extension String? {
    fileprivate var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}

import Foundation
import ParleyDomain

/// What an HTML page says about itself, read from its `<meta>` tags (Open Graph, Twitter
/// cards, `description`) and `<title>`. A forgiving scanner, not a full HTML parser: it reads
/// only tags and the title's text, from a prefix of the page capped by the fetcher. Pure.
public struct PageMetadata: Sendable, Equatable {
    public var title: String?
    public var description: String?
    public var image: String?
    public var siteName: String?

    public static let maxTitleScalars = 300
    public static let maxDescriptionScalars = 1_000

    /// Reads `html`; relative image URLs are resolved against `pageURL`.
    public static func parse(_ html: String, pageURL: URL) -> PageMetadata {
        var properties: [String: String] = [:]
        var titleText: String?
        let text = html.unicodeScalars
        var index = text.startIndex
        while let open = text[index...].firstIndex(of: "<") {
            let tagStart = text.index(after: open)
            guard tagStart < text.endIndex else { break }
            if text[tagStart...].starts(with: "!--".unicodeScalars) {
                // Comments may hold tags that are not there.
                guard let end = String.UnicodeScalarView(text[tagStart...]).firstRange(of: "-->".unicodeScalars) else { break }
                index = end.upperBound
                continue
            }
            guard let close = text[tagStart...].firstIndex(of: ">") else { break }
            let tag = String(String.UnicodeScalarView(text[tagStart..<close]))
            index = text.index(after: close)
            let name = tag.prefix { !$0.isWhitespace && $0 != "/" }.lowercased()
            switch name {
            case "meta":
                let attributes = Self.attributes(of: tag)
                guard let key = (attributes["property"] ?? attributes["name"])?.lowercased(), let content = attributes["content"] else { continue }
                if properties[key] == nil { properties[key] = decodeEntities(content) }
            case "title" where titleText == nil:
                let rest = String(String.UnicodeScalarView(text[index...]))
                if let end = rest.range(of: "</title", options: .caseInsensitive) {
                    titleText = decodeEntities(String(rest[..<end.lowerBound]))
                }
            case "body":
                // Metadata lives in the head; a body is long and has none.
                if !properties.isEmpty || titleText != nil { return metadata(properties, titleText, pageURL) }
            default:
                continue
            }
        }
        return metadata(properties, titleText, pageURL)
    }

    private static func metadata(_ properties: [String: String], _ titleText: String?, _ pageURL: URL) -> PageMetadata {
        func first(_ keys: String...) -> String? {
            keys.lazy.compactMap { properties[$0].map(clean) }.first { !$0.isEmpty }
        }
        let image = first("og:image:secure_url", "og:image:url", "og:image", "twitter:image", "twitter:image:src")
            .flatMap { URL(string: $0, relativeTo: pageURL)?.absoluteURL }
            .flatMap { ["http", "https"].contains($0.scheme?.lowercased() ?? "") ? $0.absoluteString : nil }
        return PageMetadata(
            title: (first("og:title", "twitter:title") ?? titleText.map(clean).flatMap { $0.isEmpty ? nil : $0 }).map { truncate($0, maxTitleScalars) },
            description: first("og:description", "twitter:description", "description").map { truncate($0, maxDescriptionScalars) },
            image: image.flatMap { $0.utf8.count <= LinkPreview.maxURLBytes ? $0 : nil },
            siteName: first("og:site_name", "application-name").map { truncate($0, maxTitleScalars) })
    }

    /// The attributes of a tag's inside (`meta property="og:title" content='…'`), names
    /// lowercased; values quoted with either quote, or bare.
    static func attributes(of tag: String) -> [String: String] {
        var attributes: [String: String] = [:]
        var scalars = Substring(tag).unicodeScalars.drop { !$0.properties.isWhitespace && $0 != "/" }
        func skipSpace() { scalars = scalars.drop { $0.properties.isWhitespace || $0 == "/" } }
        while true {
            skipSpace()
            let name = String(String.UnicodeScalarView(scalars.prefix { !$0.properties.isWhitespace && $0 != "=" && $0 != "/" })).lowercased()
            guard !name.isEmpty else { return attributes }
            scalars = scalars.dropFirst(name.unicodeScalars.count)
            skipSpace()
            guard scalars.first == "=" else {
                attributes[name] = attributes[name] ?? ""
                continue
            }
            scalars = scalars.dropFirst()
            skipSpace()
            var value: Substring.UnicodeScalarView
            if let quote = scalars.first, quote == "\"" || quote == "'" {
                let body = scalars.dropFirst()
                value = body.prefix { $0 != quote }
                scalars = body.dropFirst(value.count + 1)
            } else {
                value = scalars.prefix { !$0.properties.isWhitespace }
                scalars = scalars.dropFirst(value.count)
            }
            if attributes[name] == nil { attributes[name] = String(String.UnicodeScalarView(value)) }
        }
    }

    /// Named entities pages use in titles, and numeric ones.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "ndash": "–", "mdash": "—",
            "hellip": "…", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "copy": "©", "reg": "®", "trade": "™",
        ]
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semicolon = after.prefix(12).firstIndex(of: ";") else {
                result += "&"
                rest = after
                continue
            }
            let entity = after[..<semicolon]
            var replacement: String?
            if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
            } else if entity.hasPrefix("#") {
                replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
            } else {
                replacement = named[entity.lowercased()]
            }
            if let replacement {
                result += replacement
                rest = after[after.index(after: semicolon)...]
            } else {
                result += "&"
                rest = after
            }
        }
        return result + rest
    }

    /// Whitespace runs collapsed to one space, trimmed.
    static func clean(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    static func truncate(_ text: String, _ scalars: Int) -> String {
        guard text.unicodeScalars.count > scalars else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(scalars - 1))) + "…"
    }
}

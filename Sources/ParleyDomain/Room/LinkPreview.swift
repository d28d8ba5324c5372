/// What a linked web page says about itself (Open Graph, or its title and description),
/// shown under the message that links to it. The node fetches it after the message is
/// posted or edited; it is recorded in the room's log like any change to the message.
public struct LinkPreview: Sendable, Equatable {
    /// The link as it appears in the message.
    public var url: String
    public var title: String
    public var description: String
    /// An absolute http(s) URL of the page's image, if it names one.
    public var imageURL: String?
    public var siteName: String?

    public init(url: String, title: String, description: String, imageURL: String? = nil, siteName: String? = nil) {
        self.url = url
        self.title = title
        self.description = description
        self.imageURL = imageURL
        self.siteName = siteName
    }

    /// At most this many links of a message are previewed.
    public static let maxPerMessage = 3
    /// Longest link considered, in bytes.
    public static let maxURLBytes = 2_048

    /// The distinct http(s) links in `text`, in order, at most `maxPerMessage`. A link ends at
    /// whitespace or `<>"`; trailing punctuation (and a closing bracket it did not open)
    /// belongs to the sentence, not the link.
    public static func links(in text: String) -> [String] {
        // Most messages have no link: one pass over the bytes looking for "://" says so.
        guard hasSchemeSeparator(text) else { return [] }
        var found: [String] = []
        for token in text.split(whereSeparator: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "\"" }) {
            let bytes = token.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            for scheme in ["https://", "http://"] {
                guard let start = bytes.firstRange(of: Array(scheme.utf8))?.lowerBound else { continue }
                var link = String(decoding: Array(token.utf8)[start...], as: UTF8.self)
                while let last = link.last, ".,;:!?'".contains(last) || (")]}".contains(last) && !link.contains(opening(of: last))) {
                    link.removeLast()
                }
                if link.utf8.count > scheme.utf8.count, link.utf8.count <= maxURLBytes, !found.contains(link) { found.append(link) }
                break
            }
            if found.count == maxPerMessage { break }
        }
        return found
    }

    private static func hasSchemeSeparator(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= 3 else { return false }
            for index in 0..<(bytes.count - 2) where bytes[index] == 0x3A && bytes[index + 1] == 0x2F && bytes[index + 2] == 0x2F {
                return true
            }
            return false
        }
    }

    private static func opening(of closing: Character) -> Character {
        switch closing {
        case ")": "("
        case "]": "["
        default: "{"
        }
    }
}

extension LinkPreview {
    func encode(into writer: inout BinaryWriter) {
        writer.write(url)
        writer.write(title)
        writer.write(description)
        writer.write(imageURL)
        writer.write(siteName)
    }

    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> LinkPreview {
        LinkPreview(
            url: try reader.readString(), title: try reader.readString(), description: try reader.readString(),
            imageURL: try reader.readOptionalString(), siteName: try reader.readOptionalString())
    }
}

/// Finds `@all` and `@<staff id>` mentions in message text.
public enum Mentions {
    /// The members `text` mentions (in order of first mention, members only) and whether it
    /// mentions everyone. A mention is `@` at the start or after a non-identifier character,
    /// followed by an identifier; `@all` mentions every member.
    /// `isMember` says who is a member (a room passes a lookup in its member table).
    public static func parse(_ text: String, isMember: (StaffID) -> Bool) -> (mentions: [StaffID], all: Bool) {
        // Most messages mention no one.
        guard text.utf8.contains(UInt8(ascii: "@")) else { return ([], false) }
        let scalars = Array(text.unicodeScalars)
        var mentioned: [StaffID] = []
        var all = false
        var index = 0
        func isIdentifier(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-" || scalar == ".")
        }
        while index < scalars.count {
            defer { index += 1 }
            guard scalars[index] == "@", index == 0 || !isIdentifier(scalars[index - 1]) else { continue }
            var end = index + 1
            while end < scalars.count, isIdentifier(scalars[end]) { end += 1 }
            // A trailing dot ends a sentence, not an id.
            while end > index + 1, scalars[end - 1] == "." { end -= 1 }
            guard end > index + 1 else { continue }
            let name = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
            if name == "all" {
                all = true
            } else if let staff = StaffID(rawValue: name), isMember(staff), !mentioned.contains(staff) {
                mentioned.append(staff)
            }
            index = end - 1
        }
        return (mentioned, all)
    }
}

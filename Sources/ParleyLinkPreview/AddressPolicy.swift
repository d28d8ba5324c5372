/// Which IP addresses a link preview may fetch from: public unicast only, unless the
/// configuration allows internal ones (tests, or an intranet deployment). Pure.
public enum AddressPolicy {
    /// Whether `address` (4 bytes for IPv4, 16 for IPv6, network order) is a public unicast
    /// address: not loopback, private, shared (CGNAT), link-local, unspecified, multicast,
    /// broadcast, documentation, benchmarking or reserved.
    public static func isPublic(_ address: [UInt8]) -> Bool {
        switch address.count {
        case 4: return isPublicV4(address)
        case 16: return isPublicV6(address)
        default: return false
        }
    }

    private static func isPublicV4(_ a: [UInt8]) -> Bool {
        switch (a[0], a[1], a[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return false
        case (100, 64...127, _): return false  // shared address space (CGNAT)
        case (169, 254, _): return false  // link-local
        case (172, 16...31, _): return false
        case (192, 0, 0), (192, 0, 2), (192, 168, _): return false
        case (198, 18...19, _), (198, 51, 100), (203, 0, 113): return false  // benchmarking, documentation
        case (224...255, _, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    private static func isPublicV6(_ a: [UInt8]) -> Bool {
        if a[0..<10].allSatisfy({ $0 == 0 }) {
            // ::, ::1, and IPv4-mapped ::ffff:a.b.c.d (checked as IPv4); other IPv4-compatible
            // forms are deprecated.
            if a[10] == 0xFF, a[11] == 0xFF { return isPublicV4(Array(a[12..<16])) }
            return false
        }
        if a[0] == 0x00, a[1] == 0x64, a[2] == 0xFF, a[3] == 0x9B, a[4..<12].allSatisfy({ $0 == 0 }) {
            return isPublicV4(Array(a[12..<16]))  // NAT64 64:ff9b::/96
        }
        if a[0] & 0xFE == 0xFC { return false }  // unique local fc00::/7
        if a[0] == 0xFE, a[1] & 0xC0 == 0x80 { return false }  // link-local fe80::/10
        if a[0] == 0xFE, a[1] & 0xC0 == 0xC0 { return false }  // site-local (deprecated) fec0::/10
        if a[0] == 0xFF { return false }  // multicast
        if a[0] == 0x20, a[1] == 0x01, a[2] == 0x0D, a[3] == 0xB8 { return false }  // documentation
        if a[0] == 0x20, a[1] == 0x02 { return isPublicV4(Array(a[2..<6])) }  // 6to4 embeds an IPv4 address
        return true
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a webhook may point. Loopback and private addresses are allowed (self-hosted receivers
/// live there); link-local addresses (169.254.0.0/16, fe80::/10) and the clouds' metadata
/// services (169.254.169.254, fd00:ec2::254, metadata.google.internal) are not: a webhook must
/// not become a way to read instance credentials. A URL carrying a user name or password is
/// refused too, as credentials would end up in logs and settings screens.
///
/// The rule is applied twice: to the URL when the settings are saved (``problem(with:)``), and to
/// every address the host resolves to right before each delivery (``refusal(for:)``).
public enum WebhookTarget {
    /// Host names of metadata services, refused whatever they resolve to.
    static let metadataHosts: Set<String> = ["metadata.google.internal", "metadata.goog"]

    /// What is wrong with `text` as a webhook URL; nil when it may be used.
    public static func problem(with text: String) -> String? {
        guard text.utf8.count <= 2048, let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return "must be an http or https URL" }
        if components.user != nil || components.password != nil {
            return "must not contain a user name or password"
        }
        return refusal(forHost: host)
    }

    /// Why `url` may not be called now, after resolving its host; nil when every address it
    /// resolves to is allowed (or it does not resolve: then the attempt fails on its own).
    /// `resolver` is the system's resolver (`getaddrinfo`).
    public static func refusal(for url: URL, resolver: (String) -> [[UInt8]] = resolve) -> String? {
        guard let host = url.host, !host.isEmpty else { return "has no host" }
        if url.user != nil || url.password != nil { return "must not contain a user name or password" }
        if let problem = refusal(forHost: host) { return problem }
        for address in resolver(host) where isForbidden(address) {
            return "its host \(host) resolves to \(describe(address)), a link-local or metadata address"
        }
        return nil
    }

    /// The host itself: a metadata name, or a literal address that is forbidden.
    private static func refusal(forHost rawHost: String) -> String? {
        var host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
        // An IPv6 zone (`fe80::1%eth0`) says nothing about the address itself.
        if let zone = host.firstIndex(of: "%") { host = String(host[..<zone]) }
        if metadataHosts.contains(host) { return "must not point to a cloud metadata service" }
        if let address = literalAddress(host), isForbidden(address) {
            return "must not point to a link-local or cloud metadata address"
        }
        return nil
    }

    /// An address: 4 bytes (IPv4) or 16 (IPv6), in network order.
    public typealias Address = [UInt8]

    /// Whether `address` is link-local or a metadata service (IPv4-mapped IPv6 included).
    static func isForbidden(_ address: Address) -> Bool {
        if address.count == 4 { return address[0] == 169 && address[1] == 254 }
        guard address.count == 16 else { return true }
        if address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xff, address[11] == 0xff {
            return isForbidden(Array(address[12..<16]))
        }
        if address[0] == 0xfe && address[1] & 0xc0 == 0x80 { return true }  // fe80::/10
        let awsMetadata: Address = [0xfd, 0x00, 0x0e, 0xc2] + [UInt8](repeating: 0, count: 10) + [0x02, 0x54]
        return address == awsMetadata
    }

    /// `host` as an address when it is a literal: IPv6, or IPv4 in any form `inet_aton` takes
    /// (`2852039166`, `0xa9.0xfe.0xa9.0xfe`: the resolver would take them too).
    static func literalAddress(_ host: String) -> Address? {
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        var v4 = in_addr()
        if inet_aton(host, &v4) != 0 { return withUnsafeBytes(of: &v4) { Array($0) } }
        return nil
    }

    /// Every address `host` resolves to (empty when it does not), 4 or 16 bytes each.
    public static func resolve(_ host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [Address] = []
        var entry = list
        while let info = entry?.pointee {
            if info.ai_family == AF_INET, let address = info.ai_addr {
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    var raw = $0.pointee.sin_addr
                    addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                }
            } else if info.ai_family == AF_INET6, let address = info.ai_addr {
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var raw = $0.pointee.sin6_addr
                    addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                }
            }
            entry = info.ai_next
        }
        return addresses
    }

    private static func describe(_ address: Address) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = address.count == 4 ? AF_INET : AF_INET6
        return address.withUnsafeBytes { bytes in
            inet_ntop(family, bytes.baseAddress, &text, socklen_t(text.count)) != nil
                ? String(cString: text) : "?"
        }
    }
}

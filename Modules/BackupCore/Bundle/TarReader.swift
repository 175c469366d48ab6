import Foundation

/// Reads a tar stream and refuses what a bundle must never hold: bad checksums, hard links,
/// devices and FIFOs, absolute paths, `..` components, paths through a symlink of the same
/// archive, and unknown entry types. Long names arrive as pax extended headers (`x`) or GNU long
/// names (`L`, `K`); pax global headers (`g`) are skipped.
struct TarReader {
    /// Pulls up to `buffer.count` bytes; 0 at the end of the stream.
    typealias Source = (UnsafeMutableRawBufferPointer) throws(BackupError) -> Int

    /// The longest path or link target accepted (Linux's `PATH_MAX`).
    static let maximumNameBytes = 4096
    /// The largest pax extended header accepted.
    static let maximumExtendedHeaderBytes = 64 * 1024

    private let source: Source
    private var remainingInEntry: Int64 = 0
    private var paddingAfterEntry = 0
    private var symlinks: Set<String> = []

    init(source: @escaping Source) {
        self.source = source
    }

    /// The next entry's header, or nil at the end-of-archive marker.
    mutating func nextEntry() throws(BackupError) -> TarEntry? {
        var overrides: [String: String] = [:]
        while true {
            try skipRestOfEntry()
            var block = [UInt8](repeating: 0, count: Tar.blockSize)
            let count = try block.withMutableBytes { (buffer) throws(BackupError) in try readExactly(buffer) }
            guard count == Tar.blockSize else {
                throw .verificationFailed(reason: "the tar stream ends inside a header")
            }
            if block.allSatisfy({ $0 == 0 }) {
                guard overrides.isEmpty else {
                    throw .verificationFailed(reason: "the tar archive ends after an extended header")
                }
                var second = [UInt8](repeating: 0, count: Tar.blockSize)
                let read = try second.withMutableBytes { (buffer) throws(BackupError) in try readExactly(buffer) }
                guard read == Tar.blockSize, second.allSatisfy({ $0 == 0 }) else {
                    throw .verificationFailed(reason: "the tar end-of-archive marker is malformed")
                }
                return nil
            }
            let raw = try Self.parse(block)
            remainingInEntry = raw.size
            paddingAfterEntry = Tar.padding(for: raw.size)
            switch raw.typeFlag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard raw.size <= Self.maximumExtendedHeaderBytes else {
                    throw .verificationFailed(reason: "a tar extended header is implausibly large")
                }
                let data = try readData(size: Int(raw.size))
                if raw.typeFlag == UInt8(ascii: "x") {
                    for (key, value) in try Self.paxRecords(data) { overrides[key] = value }
                }
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard raw.size <= Self.maximumNameBytes + 1 else {
                    throw .verificationFailed(reason: "a tar long name is implausibly long")
                }
                let data = try readData(size: Int(raw.size)).prefix { $0 != 0 }
                guard let name = String(bytes: data, encoding: .utf8) else {
                    throw .verificationFailed(reason: "a tar long name is not UTF-8")
                }
                overrides[raw.typeFlag == UInt8(ascii: "L") ? "path" : "linkpath"] = name
            default:
                let entry = try validatedEntry(raw, overrides: overrides)
                if entry.type == .file {
                    remainingInEntry = entry.size
                    paddingAfterEntry = Tar.padding(for: entry.size)
                }
                return entry
            }
        }
    }

    /// Reads the current entry's data; 0 at the end of the entry.
    mutating func readEntry(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard remainingInEntry > 0 else { return 0 }
        let wanted = Int(min(Int64(buffer.count), remainingInEntry))
        let count = try readExactly(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
        guard count == wanted else { throw .verificationFailed(reason: "the tar stream ends inside an entry") }
        remainingInEntry -= Int64(count)
        return count
    }

    /// The rest of the current entry's data, which the caller has checked is plausible in size.
    /// Read in chunks of at most ``dataChunkBytes``, the result growing as bytes arrive: a forged
    /// header claiming a large size over a few bytes fails at the stream's end without a buffer
    /// of the claimed size ever being made.
    mutating func readData(size: Int) throws(BackupError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(size, Self.dataChunkBytes))
        while bytes.count < size {
            let wanted = min(chunk.count, size - bytes.count)
            let count = try chunk.withMutableBytes { (buffer) throws(BackupError) in
                try readEntry(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }

    /// The chunk ``readData(size:)`` reads at a time.
    static let dataChunkBytes = 1024 * 1024

    /// Whatever follows the end-of-archive marker must be zero padding.
    mutating func ensureOnlyPaddingFollows() throws(BackupError) {
        var block = [UInt8](repeating: 0, count: Tar.blockSize)
        while true {
            let count = try block.withMutableBytes { (buffer) throws(BackupError) in try readExactly(buffer) }
            if count == 0 { return }
            guard block[0..<count].allSatisfy({ $0 == 0 }) else {
                throw .verificationFailed(reason: "data follows the end of the tar archive")
            }
        }
    }

    /// Applies the extended header's fields to a ustar header and checks the result.
    private mutating func validatedEntry(_ raw: RawHeader, overrides: [String: String]) throws(BackupError) -> TarEntry
    {
        var name = overrides["path"] ?? raw.name
        let type: TarEntryType
        switch raw.typeFlag {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): type = .file
        case UInt8(ascii: "5"): type = .directory
        case UInt8(ascii: "2"): type = .symlink
        default:
            let kind =
                switch raw.typeFlag {
                case UInt8(ascii: "1"): "a hard link"
                case UInt8(ascii: "3"), UInt8(ascii: "4"): "a device"
                case UInt8(ascii: "6"): "a FIFO"
                default: "of unknown type \(Character(UnicodeScalar(raw.typeFlag)))"
                }
            throw .verificationFailed(reason: "tar entry \(name.debugDescription) is \(kind)")
        }
        if type == .directory, name.hasSuffix("/") { name.removeLast() }
        try Self.checkPath(name)
        if let parent = Self.parents(of: name).first(where: { symlinks.contains($0) }) {
            throw .verificationFailed(
                reason: "tar entry \(name.debugDescription) goes through the symlink \(parent.debugDescription)")
        }
        var entry = TarEntry(
            path: name, type: type, size: type == .file ? raw.size : 0, mode: raw.mode, mtime: raw.mtime)
        if let size = overrides["size"], type == .file {
            guard let value = Int64(size), value >= 0 else {
                throw .verificationFailed(reason: "tar entry \(name.debugDescription) has an unreadable size")
            }
            entry.size = value
        }
        if let mtime = overrides["mtime"] {
            guard let seconds = Int64(mtime.prefix { $0 != "." }) else {
                throw .verificationFailed(reason: "tar entry \(name.debugDescription) has an unreadable mtime")
            }
            entry.mtime = seconds
        }
        if type == .symlink {
            let target = overrides["linkpath"] ?? raw.linkName
            guard !target.isEmpty, !target.utf8.contains(0) else {
                throw .verificationFailed(reason: "symlink \(name.debugDescription) has no target")
            }
            entry.linkTarget = target
            symlinks.insert(name)
        }
        return entry
    }

    /// Refuses paths that could land outside the directory an archive is read into.
    static func checkPath(_ path: String) throws(BackupError) {
        // One pass over the bytes (a bundle of 100,000 files checks 100,000 paths).
        var count = 0
        var componentLength = 0
        var componentDots = 0
        var emptyOrDot = false
        var dotDot = false
        var nul = false
        for byte in path.utf8 {
            count += 1
            if byte == UInt8(ascii: "/") {
                if componentLength == 0 || (componentLength == 1 && componentDots == 1) { emptyOrDot = true }
                if componentLength == 2 && componentDots == 2 { dotDot = true }
                componentLength = 0
                componentDots = 0
            } else {
                if byte == 0 { nul = true }
                if byte == UInt8(ascii: ".") { componentDots += 1 }
                componentLength += 1
            }
        }
        if componentLength == 0 || (componentLength == 1 && componentDots == 1) { emptyOrDot = true }
        if componentLength == 2 && componentDots == 2 { dotDot = true }
        guard count > 0, count <= maximumNameBytes, !nul else {
            throw .verificationFailed(reason: "a tar entry has no usable name")
        }
        guard !path.hasPrefix("/") else {
            throw .verificationFailed(reason: "tar entry \(path.debugDescription) has an absolute path")
        }
        guard !dotDot else {
            throw .verificationFailed(reason: "tar entry \(path.debugDescription) has a .. component")
        }
        guard !emptyOrDot else {
            throw .verificationFailed(reason: "tar entry \(path.debugDescription) has an empty or . component")
        }
    }

    /// `a`, `a/b` for `a/b/c`.
    private static func parents(of path: String) -> [String] {
        let components = path.split(separator: "/")
        return (1..<max(1, components.count)).map { components[0..<$0].joined(separator: "/") }
    }

    private mutating func skipRestOfEntry() throws(BackupError) {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while remainingInEntry > 0 {
            _ = try scratch.withMutableBytes { (buffer) throws(BackupError) in try readEntry(into: buffer) }
        }
        if paddingAfterEntry > 0 {
            let count = try scratch.withMutableBytes { (buffer) throws(BackupError) in
                try readExactly(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<paddingAfterEntry]))
            }
            guard count == paddingAfterEntry else {
                throw .verificationFailed(reason: "the tar stream ends inside padding")
            }
            paddingAfterEntry = 0
        }
    }

    private func readExactly(_ buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        var total = 0
        while total < buffer.count {
            let count = try source(UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if count == 0 { break }
            total += count
        }
        return total
    }
}

import Crypto
import Foundation
import TestSupport

/// Builds hostile bundles: tar archives with any names, types and links, gzip'd by the system's
/// `gzip`, around a real bundle's manifest and database or around lies about them.
struct BundleForge {
    /// One tar entry as an attacker would write it.
    struct Entry {
        var name: String
        var type: UInt8 = UInt8(ascii: "0")
        var linkName = ""
        var prefix = ""
        var data: [UInt8] = []
        /// The size the header claims, when it lies about `data`'s.
        var claimedSize: Int? = nil
    }

    /// The parts of a real bundle: its manifest (as JSON) and its database.
    let manifest: [String: Any]
    let database: [UInt8]
    let scratch: TemporaryDirectory

    /// Takes a real bundle apart with the system's `tar`.
    init(bundle: URL) throws {
        scratch = TemporaryDirectory("forge")
        let tar = ChildProcess(executablePath: "/usr/bin/tar")
        let result = try tar.run(["-xzf", bundle.path, "-C", scratch.path])
        guard result.status == 0 else { throw Harness.Failure("tar -xzf: \(result.stderr)") }
        let manifestData = try Data(contentsOf: scratch.url.appendingPathComponent("manifest.json"))
        manifest = try JSONSerialization.jsonObject(with: manifestData) as! [String: Any]
        database = Array(try Data(contentsOf: scratch.url.appendingPathComponent("database.sqlite")))
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The manifest with entries describing `database`, then `edit` applied.
    func manifestBytes(for database: [UInt8], edit: (inout [String: Any]) -> Void = { _ in }) -> [UInt8] {
        var manifest = self.manifest
        // A format 2 entry keeps its mode and gets the mtime the forge's headers carry.
        var entry = (manifest["entries"] as? [[String: Any]])?.first ?? ["path": "database.sqlite"]
        entry["size"] = database.count
        entry["sha256"] = Self.sha256(database)
        if entry["mtime"] != nil { entry["mtime"] = Self.mtime }
        manifest["entries"] = [entry]
        edit(&manifest)
        return Array(try! JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]))
    }

    /// A gzip'd tar of `entries`.
    func bundle(_ entries: [Entry]) throws -> Data {
        var archive: [UInt8] = []
        for entry in entries {
            archive += Self.header(entry)
            archive += entry.data
            archive += [UInt8](repeating: 0, count: (512 - entry.data.count % 512) % 512)
        }
        archive += [UInt8](repeating: 0, count: 1024)
        let file = scratch.url.appendingPathComponent("forged-\(UUID().uuidString).tar")
        try Data(archive).write(to: file)
        let gzip = try ChildProcess(executablePath: "/usr/bin/gzip").run(["-n", "-f", file.path])
        guard gzip.status == 0 else { throw Harness.Failure("gzip: \(gzip.stderr)") }
        let compressed = URL(fileURLWithPath: file.path + ".gz")
        defer { try? FileManager.default.removeItem(at: compressed) }
        return try Data(contentsOf: compressed)
    }

    /// The usual two entries: `database.sqlite` (these bytes) and `manifest.json` (these bytes).
    func bundle(database: [UInt8], manifest: [UInt8]) throws -> Data {
        try bundle([Entry(name: "database.sqlite", data: database), Entry(name: "manifest.json", data: manifest)])
    }

    /// The modification time of every forged entry.
    static let mtime = 1_700_000_000

    /// A ustar header block for `entry`, checksum included.
    static func header(_ entry: Entry) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(entry.name, at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 8)
        put(octal(0, width: 8), at: 108, width: 8)
        put(octal(0, width: 8), at: 116, width: 8)
        put(octal(entry.claimedSize ?? entry.data.count, width: 12), at: 124, width: 12)
        put(octal(Self.mtime, width: 12), at: 136, width: 12)
        block[156] = entry.type
        put(entry.linkName, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put(entry.prefix, at: 345, width: 155)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7), at: 148, width: 7)
        block[155] = UInt8(ascii: " ")
        return block
    }
}

import Crypto
import Foundation
import GRDB

/// What a verification found.
public struct VerificationReport: Sendable, Equatable {
    public var bundleSHA256: String
    /// The codec the bundle's first bytes name; nil when they name none.
    public var codec: CodecName?
    public var manifest: Manifest?
    /// Every difference found, most fundamental first; empty when the bundle is good.
    public var problems: [String]

    public var isValid: Bool { problems.isEmpty }
}

/// Re-reads a bundle end to end: the bundle's SHA-256, the tar layout, the manifest, each
/// entry's size and SHA-256, and `PRAGMA integrity_check` on the extracted database.
struct BundleVerifier {
    var chunkSize = 1024 * 1024

    /// Verifies `bundle`. When `keepDatabaseAt` is given and the bundle verifies, the extracted
    /// database is left there (for a restore); otherwise it is extracted under `temporary` and removed.
    ///
    /// - Parameters:
    ///   - expectedSHA256: the bundle hash recorded in the catalog or sidecar, if any.
    ///   - expectedID: the id the manifest must carry, if known.
    func verify(
        bundle: URL, expectedSHA256: String?, expectedID: String?, temporary: URL, keepDatabaseAt: URL? = nil,
        progress: (Int64) -> Void = { _ in }
    ) throws(BackupError) -> VerificationReport {
        let extracted = keepDatabaseAt ?? temporary.appendingPathComponent("verify-\(BackupID.make()).sqlite")
        var keep = false
        defer { if !keep { SnapshotEngine.removeDatabaseFiles(at: extracted) } }

        let file = try InputFile(reading: bundle)
        var bundleHash = SHA256()
        let (codec, gzip) = try CodecName.reader(for: file) { chunk in bundleHash.update(bufferPointer: chunk) }
        var problems: [String] = []
        var manifest: Manifest?
        var entries: [Manifest.Entry] = []

        do {
            var tar = TarReader { (buffer) throws(BackupError) in try gzip.read(into: buffer) }
            var manifestBytes: [UInt8]?
            while let header = try tar.nextEntry() {
                if Task.isCancelled { throw BackupError.cancelled }
                guard !entries.contains(where: { $0.path == header.name }) else {
                    throw BackupError.verificationFailed(
                        reason: "tar entry \(header.name.debugDescription) appears twice")
                }
                switch header.name {
                case Manifest.databaseEntryName:
                    let sha = try extract(from: &tar, to: extracted) { progress(gzip.compressedBytesRead) }
                    entries.append(.init(path: header.name, size: header.size, sha256: sha))
                case Manifest.entryName:
                    guard header.size <= 1024 * 1024 else {
                        throw BackupError.verificationFailed(reason: "manifest.json is implausibly large")
                    }
                    manifestBytes = try readAll(from: &tar, size: Int(header.size))
                default:
                    throw BackupError.verificationFailed(reason: "unexpected tar entry \(header.name.debugDescription)")
                }
            }
            try tar.ensureOnlyPaddingFollows()
            guard let manifestBytes else { throw BackupError.verificationFailed(reason: "manifest.json is missing") }
            manifest = try Manifest.decode(manifestBytes)
        } catch BackupError.verificationFailed(let reason) {
            gzip.drain()
            problems.append(reason)
        } catch let error as BackupError {
            // Cancellation, a full disk or an unreadable file say nothing about the bundle.
            throw error
        } catch {
            throw .io(path: bundle.path, reason: "\(error)")
        }

        let actualSHA = bundleHash.finalize().hexString
        if let expectedSHA256, expectedSHA256 != actualSHA {
            problems.insert("bundle SHA-256 is \(actualSHA), expected \(expectedSHA256)", at: 0)
        }
        if let manifest {
            problems += Self.compare(manifest: manifest, entries: entries, expectedID: expectedID)
        }
        if problems.isEmpty {
            if let failure = Self.integrityCheck(extracted) {
                problems.append("integrity_check of database.sqlite: \(failure)")
            } else if let manifest {
                problems += Self.compareDatabase(manifest: manifest, database: extracted)
            }
        }
        keep = problems.isEmpty && keepDatabaseAt != nil
        return VerificationReport(bundleSHA256: actualSHA, codec: codec, manifest: manifest, problems: problems)
    }

    private static func compare(manifest: Manifest, entries: [Manifest.Entry], expectedID: String?) -> [String] {
        var problems: [String] = []
        if !Manifest.supportedFormatVersions.contains(manifest.formatVersion) {
            problems.append("manifest format_version \(manifest.formatVersion) is not supported")
        }
        if !BackupID.isValid(manifest.id) {
            problems.append("manifest id \(manifest.id.prefix(80).debugDescription) is not a backup id")
        }
        if let expectedID, manifest.id != expectedID {
            problems.append("manifest id is \(manifest.id), expected \(expectedID)")
        }
        for listed in manifest.entries {
            guard let actual = entries.first(where: { $0.path == listed.path }) else {
                problems.append("entry \(listed.path) is listed in the manifest but missing from the bundle")
                continue
            }
            if actual.size != listed.size {
                problems.append("entry \(listed.path) has \(actual.size) bytes, the manifest says \(listed.size)")
            } else if actual.sha256 != listed.sha256 {
                problems.append("entry \(listed.path) SHA-256 is \(actual.sha256), the manifest says \(listed.sha256)")
            }
        }
        for actual in entries where !manifest.entries.contains(where: { $0.path == actual.path }) {
            problems.append("entry \(actual.path) is not listed in the manifest")
        }
        if !entries.contains(where: { $0.path == Manifest.databaseEntryName }) {
            problems.append("database.sqlite is missing")
        }
        return problems
    }

    /// Runs `PRAGMA integrity_check`; nil when it answers "ok".
    static func integrityCheck(_ database: URL) -> String? {
        do {
            var config = Configuration()
            config.label = "integrity-check"
            let queue = try DatabaseQueue(path: database.path, configuration: config)
            defer { try? queue.close() }
            let rows = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
            if rows == ["ok"] { return nil }
            return rows.joined(separator: "; ")
        } catch let error as DatabaseError {
            return error.message ?? "\(error.resultCode)"
        } catch {
            return "\(error)"
        }
    }

    private func extract(from tar: inout TarReader, to url: URL, onChunk: () -> Void) throws(BackupError) -> String {
        let output = try OutputFile(creating: url)
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if Task.isCancelled { throw .cancelled }
            let count = try tar.readEntry(into: buffer)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            try output.write(chunk)
            onChunk()
        }
        output.close()
        return hash.finalize().hexString
    }

    private func readAll(from tar: inout TarReader, size: Int) throws(BackupError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = try bytes.withMutableBytes { (buffer) throws(BackupError) in
                try tar.readEntry(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            }
            if count == 0 { break }
            filled += count
        }
        return bytes
    }
}

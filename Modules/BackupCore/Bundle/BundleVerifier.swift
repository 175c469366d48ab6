import Crypto
import Foundation
import GRDB

/// What a verification found.
public struct VerificationReport: Sendable, Equatable {
    public var bundleSHA256: String
    /// The codec the bundle's first bytes name (an encrypted bundle's decrypted bytes); nil when
    /// they name none.
    public var codec: CodecName?
    /// Whether the bundle is encrypted in the age format.
    public var encrypted: Bool = false
    public var manifest: Manifest?
    /// Every difference found, most fundamental first; empty when the bundle is good.
    public var problems: [String]

    public var isValid: Bool { problems.isEmpty }
}

/// Re-reads a bundle end to end: the bundle's SHA-256, the tar layout, the manifest, each
/// entry's type, size, SHA-256, mode and mtime, then each source's own checks (SQLite:
/// `PRAGMA integrity_check` on the extracted database and the manifest's page figures). Entries
/// go to the source kind that claims them; an entry no kind claims is a problem.
///
/// An encrypted bundle is decrypted with ``keys`` on the way (its hash is over the ciphertext);
/// one that no key opens is thrown, not reported: that is the reader's failure, not the bundle's.
struct BundleVerifier {
    /// The keys that may open an encrypted bundle (read only when the bundle is one).
    var keys: BundleKeys = .none
    /// Where `pg_restore` is found, for a bundle holding a PostgreSQL dump.
    var postgres: PostgresEnvironment = .process

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
        let workspace = SourceWorkspace(
            database: keepDatabaseAt ?? temporary.appendingPathComponent("verify-\(BackupID.make()).sqlite"),
            postgres: postgres)
        var readers = SourceKind.allCases.map { (kind: $0, reader: $0.source.reader(extractingTo: workspace)) }
        var keep = false
        defer { if !keep { for reader in readers { reader.reader.discard() } } }

        let file = try InputFile(reading: bundle)
        var bundleHash = SHA256()
        let reading = try CodecName.reader(for: file, keys: keys) { chunk in bundleHash.update(bufferPointer: chunk) }
        let (codec, gzip) = (reading.codec, reading.reader)
        var problems: [String] = []
        var manifest: Manifest?
        // Each path once, at its place in `entries`: 100,000 files are compared by dictionary.
        var entries: [Manifest.Entry] = []
        var places: [String: Int] = [:]
        var repeated: Set<String> = []
        var kindsFound: Set<SourceKind> = []

        do {
            var tar = TarReader { (buffer) throws(BackupError) in try gzip.read(into: buffer) }
            var manifestBytes: [UInt8]?
            while let header = try tar.nextEntry() {
                if Task.isCancelled { throw BackupError.cancelled }
                guard manifestBytes == nil else {
                    throw BackupError.verificationFailed(
                        reason: "tar entry \(header.path.debugDescription) follows manifest.json")
                }
                // A file that changed while it was read is written again, once; tar keeps the last copy.
                if let place = places[header.path],
                    repeated.contains(header.path)
                        || !DirectorySource.mayRepeat(header.path, earlier: entries[place].type, later: header.type)
                {
                    throw BackupError.verificationFailed(
                        reason: "tar entry \(header.path.debugDescription) appears twice")
                }
                if header.path == Manifest.entryName {
                    guard header.type == .file, header.size <= Manifest.maximumBytes else {
                        throw BackupError.verificationFailed(reason: "manifest.json is not a plausible manifest")
                    }
                    manifestBytes = try tar.readData(size: Int(header.size))
                } else if let index = readers.firstIndex(where: { $0.reader.claims(header) }) {
                    let entry = try readers[index].reader.read(header, from: &tar) {
                        progress(gzip.compressedBytesRead)
                    }
                    if let place = places[header.path] {
                        entries[place] = entry
                        repeated.insert(header.path)
                    } else {
                        places[header.path] = entries.count
                        entries.append(entry)
                    }
                    kindsFound.insert(readers[index].kind)
                } else {
                    throw BackupError.verificationFailed(reason: "unexpected tar entry \(header.path.debugDescription)")
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
            problems += Self.compare(manifest: manifest, entries: entries, places: places, expectedID: expectedID)
            problems += Self.compareSources(manifest: manifest, kindsFound: kindsFound)
            problems += readers.flatMap { $0.reader.strays(among: manifest.sources) }
        }
        if problems.isEmpty, let manifest {
            for source in manifest.sources {
                guard let reader = readers.first(where: { $0.kind == source.kind })?.reader else { continue }
                problems += try reader.check(source)
            }
        }
        keep = problems.isEmpty && keepDatabaseAt != nil
        return VerificationReport(
            bundleSHA256: actualSHA, codec: codec, encrypted: reading.encrypted, manifest: manifest, problems: problems)
    }

    private static func compare(
        manifest: Manifest, entries: [Manifest.Entry], places: [String: Int], expectedID: String?
    ) -> [String] {
        var problems: [String] = []
        if !BackupID.isValid(manifest.id) {
            problems.append("manifest id \(manifest.id.prefix(80).debugDescription) is not a backup id")
        }
        if let expectedID, manifest.id != expectedID {
            problems.append("manifest id is \(manifest.id), expected \(expectedID)")
        }
        var listedPaths: Set<String> = []
        for listed in manifest.entries {
            guard listedPaths.insert(listed.path).inserted else {
                problems.append("entry \(listed.path) is listed twice in the manifest")
                continue
            }
            guard let place = places[listed.path] else {
                problems.append("entry \(listed.path) is listed in the manifest but missing from the bundle")
                continue
            }
            problems += Self.differences(listed: listed, actual: entries[place])
        }
        for actual in entries where !listedPaths.contains(actual.path) {
            problems.append("entry \(actual.path) is not listed in the manifest")
        }
        return problems
    }

    /// What differs between an entry as the manifest lists it and as the archive holds it.
    /// Format 1 manifests carry no mode or mtime, so those are compared only when listed.
    private static func differences(listed: Manifest.Entry, actual: Manifest.Entry) -> [String] {
        let path = listed.path
        if actual.type != listed.type {
            return ["entry \(path) is a \(actual.type.rawValue), the manifest says \(listed.type.rawValue)"]
        }
        if actual.size != listed.size {
            return ["entry \(path) has \(actual.size) bytes, the manifest says \(listed.size)"]
        }
        var problems: [String] = []
        if actual.sha256 != listed.sha256 {
            problems.append(
                "entry \(path) SHA-256 is \(actual.sha256 ?? "none"), the manifest says \(listed.sha256 ?? "none")")
        }
        if let mode = listed.mode, mode != actual.mode {
            problems.append(
                "entry \(path) has mode \(String(actual.mode ?? 0, radix: 8)), the manifest says \(String(mode, radix: 8))"
            )
        }
        if let mtime = listed.mtime, mtime != actual.mtime {
            problems.append("entry \(path) has mtime \(actual.mtime ?? 0), the manifest says \(mtime)")
        }
        if actual.target != listed.target {
            problems.append(
                "symlink \(path) points at \(actual.target ?? "nothing"), the manifest says \(listed.target ?? "nothing")"
            )
        }
        return problems
    }

    /// At least one source, every source named once, every kind of entry found backed by a
    /// source of that kind, and a listed SQLite source's database or PostgreSQL source's dump
    /// present (a `files` bundle has none; a directory source's root is its reader's check).
    private static func compareSources(manifest: Manifest, kindsFound: Set<SourceKind>) -> [String] {
        var problems: [String] = []
        var names: Set<String> = []
        for source in manifest.sources where !names.insert(source.name).inserted {
            problems.append("manifest lists the source \(source.name.debugDescription) twice")
        }
        for kind in kindsFound.sorted(by: { $0.rawValue < $1.rawValue })
        where !manifest.sources.contains(where: { $0.kind == kind }) {
            problems.append(
                "the bundle holds \(kind.rawValue) entries but the manifest lists no \(kind.rawValue) source")
        }
        if manifest.sources.isEmpty {
            problems.append("the manifest lists no source")
        }
        if manifest.sqlite != nil, !kindsFound.contains(.sqlite) {
            problems.append("\(SQLiteSource.entryName) is missing")
        }
        if manifest.postgresql != nil, !kindsFound.contains(.postgresql) {
            problems.append("\(PostgresSource.entryName) is missing")
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
}

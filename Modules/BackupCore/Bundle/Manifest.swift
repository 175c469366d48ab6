import Foundation

/// `manifest.json`: what a bundle holds and how to check it.
///
/// Format 2 lists the bundle's sources (kind, name and the kind's own fields) and an entry for
/// every file with its size, SHA-256, mode and mtime. Format 1 manifests (one SQLite database,
/// its fields at the top level) are read into the same shape: one SQLite source.
public struct Manifest: Equatable, Sendable {
    /// One file, directory or symlink in the bundle (every entry but `manifest.json` itself).
    public struct Entry: Equatable, Sendable {
        public var path: String
        public var type: TarEntryType
        /// Bytes of data (0 for directories and symlinks).
        public var size: Int64
        /// Of a regular file's data; nil for directories and symlinks.
        public var sha256: String?
        /// Permission bits; nil in format 1, which did not record them.
        public var mode: Int?
        /// Modification time in whole seconds since 1970; nil in format 1.
        public var mtime: Int64?
        /// Where a symlink points.
        public var target: String?

        public init(
            path: String, type: TarEntryType = .file, size: Int64, sha256: String?, mode: Int?, mtime: Int64?,
            target: String? = nil
        ) {
            self.path = path
            self.type = type
            self.size = size
            self.sha256 = sha256
            self.mode = mode
            self.mtime = mtime
            self.target = target
        }
    }

    /// One source the bundle holds: its kind, its name, and the kind's own fields.
    public struct Source: Equatable, Sendable {
        public var kind: SourceKind
        /// Unique within a bundle (`database` for the SQLite database, a directory's base name
        /// made unique for a directory: `uploads`, `uploads-2`).
        public var name: String
        /// The SQLite fields, present when ``kind`` is ``SourceKind/sqlite``.
        public var sqlite: SQLiteFigures?
        /// The directory's fields, present when ``kind`` is ``SourceKind/directory``.
        public var directory: DirectoryFigures?
        /// The PostgreSQL fields, present when ``kind`` is ``SourceKind/postgresql``.
        public var postgresql: PostgresFigures?

        public init(
            kind: SourceKind, name: String, sqlite: SQLiteFigures? = nil, directory: DirectoryFigures? = nil,
            postgresql: PostgresFigures? = nil
        ) {
            self.kind = kind
            self.name = name
            self.sqlite = sqlite
            self.directory = directory
            self.postgresql = postgresql
        }
    }

    /// The bundle formats this build can read.
    public static let supportedFormatVersions = 1...2
    /// The format new bundles are written in.
    public static let currentFormatVersion = 2
    public static let entryName = "manifest.json"
    /// The largest `manifest.json` a reader accepts: the one part of a bundle held in memory,
    /// a few hundred bytes per entry, so room for well over 100,000 files.
    static let maximumBytes: Int64 = 256 * 1024 * 1024

    public var formatVersion: Int
    public var id: String
    public var type: BackupType
    public var createdAt: Date
    public var toolVersion: String
    public var sources: [Source]
    public var entries: [Entry]

    public init(
        formatVersion: Int = Manifest.currentFormatVersion, id: String, type: BackupType, createdAt: Date,
        toolVersion: String = BackupManagerVersion.current, sources: [Source] = [], entries: [Entry] = []
    ) {
        self.formatVersion = formatVersion
        self.id = id
        self.type = type
        self.createdAt = createdAt
        self.toolVersion = toolVersion
        self.sources = sources
        self.entries = entries
    }

    /// The SQLite database's fields (page count, SQLite version…), when the bundle holds one.
    public var sqlite: SQLiteFigures? { sources.first { $0.kind == .sqlite }?.sqlite }

    /// The PostgreSQL database's fields (server and pg_dump versions…), when the bundle holds a dump.
    public var postgresql: PostgresFigures? { sources.first { $0.kind == .postgresql }?.postgresql }

    /// The kind of the bundle's database (SQLite or PostgreSQL); nil when it holds none.
    public var databaseKind: SourceKind? { sources.first { $0.kind.isDatabase }?.kind }

    static func decode(_ bytes: [UInt8]) throws(BackupError) -> Manifest {
        do {
            return try JSONDecoder.backupManager().decode(Manifest.self, from: Data(bytes))
        } catch let error as BackupError {
            throw error
        } catch {
            throw .verificationFailed(reason: "manifest.json cannot be read: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing field \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty
                ? "not valid JSON" : "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}

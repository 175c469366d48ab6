import Foundation

/// The two layouts of `manifest.json`. Format 2: `sources` and entries with mode and mtime.
/// Format 1: the one SQLite database's fields at the top level, entries with path, size and
/// SHA-256 only; read into one SQLite source named `database`.
extension Manifest: Codable {
    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case id, type
        case createdAt = "created_at"
        case toolVersion = "tool_version"
        case sources, entries
    }

    /// Format 1's top-level SQLite fields.
    enum VersionOneKeys: String, CodingKey {
        case sourcePath = "source_path"
        case sqliteVersion = "sqlite_version"
        case pageSize = "page_size"
        case pageCount = "page_count"
        case userVersion = "user_version"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        guard Self.supportedFormatVersions.contains(formatVersion) else {
            throw BackupError.verificationFailed(
                reason: "manifest format_version \(formatVersion) is not supported (this version reads "
                    + "\(Self.supportedFormatVersions.lowerBound)–\(Self.supportedFormatVersions.upperBound))")
        }
        id = try container.decode(String.self, forKey: .id)
        type = try container.decode(BackupType.self, forKey: .type)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        toolVersion = try container.decode(String.self, forKey: .toolVersion)
        entries = try container.decode([Entry].self, forKey: .entries)
        if formatVersion == 1 {
            let old = try decoder.container(keyedBy: VersionOneKeys.self)
            let figures = SQLiteFigures(
                path: try old.decode(String.self, forKey: .sourcePath),
                sqliteVersion: try old.decode(String.self, forKey: .sqliteVersion),
                pageSize: try old.decode(Int.self, forKey: .pageSize),
                pageCount: try old.decode(Int.self, forKey: .pageCount),
                userVersion: try old.decode(Int.self, forKey: .userVersion))
            sources = [Source(kind: .sqlite, name: SQLiteSource.defaultName, sqlite: figures)]
            guard entries.allSatisfy({ $0.type == .file }) else {
                throw BackupError.verificationFailed(reason: "a format 1 manifest lists a directory or symlink")
            }
        } else {
            sources = try container.decode([Source].self, forKey: .sources)
            if let entry = entries.first(where: { $0.mode == nil || $0.mtime == nil }) {
                throw BackupError.verificationFailed(
                    reason: "manifest entry \(entry.path.debugDescription) lacks its mode or mtime")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(toolVersion, forKey: .toolVersion)
        try container.encode(entries, forKey: .entries)
        if formatVersion == 1, let figures = sqlite {
            var old = encoder.container(keyedBy: VersionOneKeys.self)
            try old.encode(figures.path, forKey: .sourcePath)
            try old.encode(figures.sqliteVersion, forKey: .sqliteVersion)
            try old.encode(figures.pageSize, forKey: .pageSize)
            try old.encode(figures.pageCount, forKey: .pageCount)
            try old.encode(figures.userVersion, forKey: .userVersion)
        } else {
            try container.encode(sources, forKey: .sources)
        }
    }
}

extension Manifest.Entry: Codable {
    enum CodingKeys: String, CodingKey {
        case path, type, size, sha256, mode, mtime, target
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        type = try container.decodeIfPresent(TarEntryType.self, forKey: .type) ?? .file
        size = try container.decode(Int64.self, forKey: .size)
        if type == .file { sha256 = try container.decode(String.self, forKey: .sha256) }
        if let octal = try container.decodeIfPresent(String.self, forKey: .mode) {
            guard let value = Int(octal, radix: 8), (0...0o7777).contains(value) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .mode, in: container, debugDescription: "mode is not octal permission bits")
            }
            mode = value
        }
        mtime = try container.decodeIfPresent(Int64.self, forKey: .mtime)
        if type == .symlink { target = try container.decode(String.self, forKey: .target) }
    }

    /// Omits what the entry's type does not have; the mode is written in octal (`"0644"`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        if type != .file { try container.encode(type, forKey: .type) }
        try container.encode(size, forKey: .size)
        try container.encodeIfPresent(sha256, forKey: .sha256)
        if let mode {
            let digits = String(mode, radix: 8)
            try container.encode(String(repeating: "0", count: max(0, 4 - digits.count)) + digits, forKey: .mode)
        }
        try container.encodeIfPresent(mtime, forKey: .mtime)
        try container.encodeIfPresent(target, forKey: .target)
    }
}

extension Manifest.Source: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, name, postgresql
    }

    /// The kind's own fields sit beside `kind` and `name` in one object.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(SourceKind.self, forKey: .kind)
        name = try container.decode(String.self, forKey: .name)
        switch kind {
        case .sqlite: sqlite = try SQLiteFigures(from: decoder)
        case .directory: directory = try DirectoryFigures(from: decoder)
        case .postgresql: postgresql = try container.decode(PostgresFigures.self, forKey: .postgresql)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try sqlite?.encode(to: encoder)
        try directory?.encode(to: encoder)
        try container.encodeIfPresent(postgresql, forKey: .postgresql)
    }
}

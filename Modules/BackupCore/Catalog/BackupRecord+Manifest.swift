import Foundation

extension Manifest {
    /// What the bundle holds, read from its sources: the database, directories, or both
    /// (`database` for a bundle with neither, which verification refuses anyway).
    public var scope: BackupScope {
        BackupScope(
            holdsDatabase: databaseKind != nil,
            holdsFiles: sources.contains { $0.kind == .directory }) ?? .database
    }

    /// Every warning of the bundle's directory sources, in the order of the sources.
    public var sourceWarnings: [String] {
        sources.flatMap { $0.directory?.warnings ?? [] }
    }
}

extension BackupRecord {
    /// Takes what a verified or written bundle's manifest says about its contents: the scope,
    /// the directory sources' warnings (at most ``BackupInfo/sourceWarningLimit``, then one
    /// line counting the rest) and the database's page count.
    mutating func describe(_ manifest: Manifest) {
        scope = manifest.scope
        sourceWarnings = Self.capped(manifest.sourceWarnings)
        sourcePageCount = manifest.sqlite.map { Int64($0.pageCount) }
    }

    static func capped(_ warnings: [String]) -> [String] {
        let limit = BackupInfo.sourceWarningLimit
        guard warnings.count > limit else { return warnings }
        return Array(warnings.prefix(limit)) + ["… and \(warnings.count - limit) more"]
    }
}

import Foundation

extension BackupService {
    /// Which parts of the bundle a restore puts back: everything it holds, or the one part
    /// `only` names (a part the bundle does not hold is refused, 422 / exit 2).
    static func parts(of manifest: Manifest, only: RestorePart?) throws(BackupError) -> (database: Bool, files: Bool) {
        try parts(
            holdsDatabase: manifest.databaseKind != nil,
            holdsFiles: manifest.sources.contains { $0.kind == .directory },
            only: only)
    }

    /// ``parts(of:only:)`` for a backup of `scope`, checked before its bundle is read.
    static func parts(of scope: BackupScope, only: RestorePart?) throws(BackupError) -> (database: Bool, files: Bool) {
        try parts(holdsDatabase: scope.includesDatabase, holdsFiles: scope.includesFiles, only: only)
    }

    private static func parts(
        holdsDatabase: Bool, holdsFiles: Bool, only: RestorePart?
    ) throws(BackupError) -> (database: Bool, files: Bool) {
        switch only {
        case .database:
            guard holdsDatabase else { throw .invalidInput(fields: ["only": "the backup holds no database"]) }
            return (true, false)
        case .files:
            guard holdsFiles else { throw .invalidInput(fields: ["only": "the backup holds no directories"]) }
            return (false, true)
        case nil:
            return (holdsDatabase, holdsFiles)
        }
    }

    /// Where each of the bundle's directory sources goes, among the directories the settings
    /// configure (see ``restoreTargets(for:configured:)``).
    func restoreTargets(for manifest: Manifest) throws(BackupError) -> [(source: Manifest.Source, target: URL)] {
        let settings = try catalog.settings()
        return try Self.restoreTargets(
            for: manifest, configured: DirectorySource.sources(for: settings.directories, exclude: settings.exclude))
    }

    /// Where each of the bundle's directory sources goes: the configured directory whose
    /// absolute path is the source's `path`, else the configured directory whose unique name is
    /// the source's name. A source that matches neither refuses the whole restore
    /// (``BackupError/directoryNotConfigured(path:)``) before anything is touched: files are
    /// never written anywhere else.
    static func restoreTargets(
        for manifest: Manifest, configured: [DirectorySource]
    ) throws(BackupError) -> [(source: Manifest.Source, target: URL)] {
        var targets: [(source: Manifest.Source, target: URL)] = []
        for source in manifest.sources where source.kind == .directory {
            let path = source.directory?.path ?? ""
            guard
                let match = configured.first(where: { $0.root.standardizedFileURL.path == path })
                    ?? configured.first(where: { $0.name == source.name })
            else { throw .directoryNotConfigured(path: path.isEmpty ? source.name : path) }
            let target = match.root.standardizedFileURL
            if targets.contains(where: { $0.target == target }) {
                throw .verificationFailed(reason: "two directories of the bundle would both go to \(target.path)")
            }
            targets.append((source, target))
        }
        return targets
    }

    /// Extracts each directory of `targets` next to its target (`<target>.restore-<id>`), from a
    /// second read of `bundle`, checked entry by entry against the manifest, and flushes the
    /// trees: the swap is then ready (``DirectorySwap/swap()``). On failure nothing is left.
    func stageDirectories(
        _ targets: [(source: Manifest.Source, target: URL)], of manifest: Manifest, from bundle: URL,
        keys: BundleKeys, keepOld: Bool, progress: (Int64) -> Void
    ) throws(BackupError) -> DirectorySwap {
        var swap = try DirectorySwap.begin(
            targets.map(\.target), backupID: manifest.id, keepOld: keepOld, in: dataDirectory)
        do throws(BackupError) {
            var bySource: [String: [Manifest.Entry]] = [:]
            for entry in manifest.entries where entry.path.hasPrefix(TreeExtractor.filesPrefix) {
                let name = entry.path.dropFirst(TreeExtractor.filesPrefix.count).prefix { $0 != "/" }
                bySource[String(name), default: []].append(entry)
            }
            let items = zip(targets, swap.journal.directories).map { target, directory in
                DirectoryExtraction.Item(
                    sourceName: target.source.name, staging: URL(fileURLWithPath: directory.staging),
                    expected: bySource[target.source.name] ?? [])
            }
            try DirectoryExtraction(keys: keys).extract(bundle: bundle, items: items, progress: progress)
            try swap.staged()
            return swap
        } catch {
            swap.rollBack()
            throw error
        }
    }
}

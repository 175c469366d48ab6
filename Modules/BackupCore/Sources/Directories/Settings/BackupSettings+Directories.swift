import Foundation

extension BackupSettings {
    /// The scope of a backup that names none: ``defaultScope``, or automatically `full` when
    /// directories are configured, else `database`.
    public var scopeByDefault: BackupScope {
        defaultScope ?? .automatic(directoriesConfigured: !directories.isEmpty)
    }

    /// The scope a backup runs with: `asked`, else ``scopeByDefault``; a scope with files when
    /// no directory is configured is refused (``BackupError/invalidInput(fields:)`` on `scope`).
    public func scope(asked: BackupScope?) throws(BackupError) -> BackupScope {
        let scope = asked ?? scopeByDefault
        if scope.includesFiles, directories.isEmpty {
            throw .invalidInput(fields: [
                "scope":
                    "\(scope.rawValue) needs directories, and no directories are configured "
                    + "(backup settings set directories=/path/one,/path/two)"
            ])
        }
        return scope
    }

    /// The directory fields' problems that need no file system (see ``DirectoryRules``).
    var directoryProblems: [String: String] {
        var fields = DirectoryRules.listProblems(directories)
        fields.merge(DirectoryRules.patternProblems(exclude)) { own, _ in own }
        if let defaultScope, defaultScope.includesFiles, directories.isEmpty {
            fields["default_scope"] = "\(defaultScope.rawValue) needs directories, and no directories are configured"
        }
        return fields
    }
}

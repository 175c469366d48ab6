extension SourceKind {
    /// The source type that writes, verifies and restores this kind.
    var source: any BackupSource.Type {
        switch self {
        case .sqlite: SQLiteSource.self
        case .directory: DirectorySource.self
        case .postgresql: PostgresSource.self
        }
    }
}

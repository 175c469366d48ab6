/// Takes a backup's entries as such, instead of as tar framing: what ``BundleEntrySink`` hands
/// on when it is made with a consumer (the incremental repository's ``RepositoryWriter``). The
/// sources write exactly as they do into a bundle; the consumer hears, for every entry, its
/// header, its data (a regular file's, in order, in pieces of any size) and its end.
///
/// Blocking: called on the writer's thread.
protocol BundleEntryConsumer: AnyObject {
    /// An entry starts. `superseding`: it is a later copy of a regular file already written
    /// (a file that changed while it was read), which replaces the earlier one in its place.
    func begin(_ entry: TarEntry, superseding: Bool) throws(BackupError)
    /// The next piece of the data of the regular file begun last.
    func data(_ piece: UnsafeRawBufferPointer) throws(BackupError)
    /// The entry begun last is complete, as the manifest lists it (with its SHA-256 when it is
    /// a regular file).
    func end(_ entry: Manifest.Entry) throws(BackupError)
}

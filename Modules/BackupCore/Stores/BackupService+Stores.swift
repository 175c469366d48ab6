import Foundation

extension BackupService {
    /// The store that holds `record`'s bundle, by the name its record keeps.
    public func store(for record: BackupRecord) throws(BackupError) -> any BundleStore {
        try store(named: record.store)
    }

    /// The store called `name`: ``LocalStore`` (`backups/`) or ``S3Store`` (the off-site bucket,
    /// for remote-only backups; its calls block, see ``BlockingBridge``).
    public func store(named name: String) throws(BackupError) -> any BundleStore {
        switch name {
        case localStore.name: return localStore
        case S3Store.storeName: return try remoteStore()
        default:
            throw .io(path: name, reason: "no bundle store is called \(name.prefix(80).debugDescription)")
        }
    }

    /// Where a person finds `info`'s bundle (its path in the local store), for the faces' messages.
    public func bundleLocation(of info: BackupInfo) -> String {
        let holder = (try? catalog.record(id: info.id)).flatMap { try? store(for: $0) } ?? localStore
        return holder.location(of: info.filename)
    }
}

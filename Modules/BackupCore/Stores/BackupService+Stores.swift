import Foundation

extension BackupService {
    /// The store that holds `record`'s bundle, by the name its record keeps.
    public func store(for record: BackupRecord) throws(BackupError) -> any BundleStore {
        try store(named: record.store)
    }

    /// The store called `name`; only ``LocalStore`` exists so far.
    public func store(named name: String) throws(BackupError) -> any BundleStore {
        guard name == localStore.name else {
            throw .io(path: name, reason: "no bundle store is called \(name.prefix(80).debugDescription)")
        }
        return localStore
    }

    /// Where a person finds `info`'s bundle (its path in the local store), for the faces' messages.
    public func bundleLocation(of info: BackupInfo) -> String {
        let holder = (try? catalog.record(id: info.id)).flatMap { try? store(for: $0) } ?? localStore
        return holder.location(of: info.filename)
    }
}

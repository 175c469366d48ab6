import Foundation

/// What reconciliation found and did.
public struct ReconcileReport: Sendable, Equatable {
    /// Records of jobs whose process died, now `failed`.
    public var interrupted: Int = 0
    /// Files removed from `.tmp/`.
    public var temporaryFilesRemoved: Int = 0
    /// Bundles without a record that verified and are now recorded as `imported`.
    public var adopted: [String] = []
    /// Unknown files moved to `quarantine/`.
    public var quarantined: [String] = []
    /// Records whose bundle vanished, now `missing`.
    public var missing: [String] = []
    /// Records that did not say `completed` although their whole bundle was in place (the
    /// process died between the bundle's rename and the record's update), now `completed`.
    public var recovered: [String] = []
    /// A restore of directories a dead process left (see the restore journal): `finished` or
    /// `rolled back`; nil when there was none.
    public var restoreRecovered: String?
}

extension BackupService {
    /// Brings the catalog and the local store (`backups/`) into agreement; the caller holds the
    /// job lock.
    ///
    /// A bundle with no record is verified and adopted (type `imported`, its manifest's id and
    /// time, recorded now) or, when it does not verify, quarantined with its sidecar; any other
    /// unknown file is quarantined (never deleted); a completed record whose bundle vanished
    /// becomes `missing`. An adopted or recovered bundle is sealed as a new one is put
    /// (``LocalStore/seal(_:sha256:)``): fsynced, with a complete sidecar.
    func reconcileHoldingLock(into report: inout ReconcileReport) throws(BackupError) {
        let store = localStore
        let all = try catalog.allRecords()
        // A file named by any record is never adopted or quarantined; only this store's records
        // are recovered or found missing here.
        let known = Set(all.map(\.filename))
        let records = all.filter { $0.store == store.name }
        let stored = Set(try store.list().map(\.key))

        // A sidecar stays while its bundle is there or its record claims one (completed, or
        // missing until it is back); the lone sidecar of a put killed before the bundle's rename
        // (a record `failed` as interrupted) is set aside.
        let claimed = Set(records.filter { $0.status.allows(.verify) }.map(\.filename))
        for name in try store.strayFiles(keepingSidecarsOf: claimed) {
            report.quarantined += try store.quarantine(name)
        }
        // An encrypted bundle no key here opens is left where it is, neither adopted nor set
        // aside: it may be whole, and the key may come back. So is a PostgreSQL bundle this
        // machine has no (or too old a) `pg_restore` to check: installing it is the fix.
        for key in stored.sorted() where !known.contains(key) {
            do throws(BackupError) {
                if try !adopt(key, into: &report) {
                    report.quarantined += try store.quarantine(key, withSidecar: true)
                }
            } catch .verificationFailed(let reason) where EncryptedBundle.isKeyFailure(reason) {
                continue
            } catch .toolMissing, .toolOutdated {
                continue
            }
        }
        for record in records where record.status != .completed && stored.contains(record.filename) {
            do throws(BackupError) {
                try recover(record, into: &report)
            } catch .verificationFailed(let reason) where EncryptedBundle.isKeyFailure(reason) {
                continue
            } catch .toolMissing, .toolOutdated {
                continue
            }
        }
        for record in records where record.status == .completed && !stored.contains(record.filename) {
            var missing = record
            missing.status = .missing
            missing.error = "the bundle file \(record.filename) has vanished"
            try catalog.update(missing)
            report.missing.append(record.id)
        }
        try reconcileRepositoryRecords(all, into: &report)
    }

    /// Verifies an unrecorded bundle, seals it and records it; false when it does not verify or
    /// its id is taken.
    private func adopt(_ key: String, into report: inout ReconcileReport) throws(BackupError) -> Bool {
        let (store, keys) = (localStore, try bundleKeys())
        let recorded = try store.checksum(of: key)
        let verdict = try store.open(key) { (bundle) throws(BackupError) in
            try BundleVerifier(keys: keys, postgres: postgresEnvironment).verify(
                bundle: bundle, expectedSHA256: recorded, expectedID: nil, temporary: dataDirectory.temporary)
        }
        guard verdict.isValid, let manifest = verdict.manifest, BackupID.isValid(manifest.id),
            (try? catalog.record(id: manifest.id)) == nil
        else { return false }
        try store.seal(key, sha256: verdict.bundleSHA256)
        var record = BackupRecord(
            id: manifest.id, type: .imported, createdAt: manifest.createdAt, note: nil, recordedAt: now())
        record.filename = key
        record.store = store.name
        record.status = .completed
        record.sizeBytes = try store.size(of: key)
        record.sha256 = verdict.bundleSHA256
        record.completedAt = now()
        record.describe(manifest)
        record.verifiedAt = record.completedAt
        try catalog.insert(record)
        report.adopted.append(manifest.id)
        return true
    }

    /// A record that is not `completed` but whose bundle is in the store: completed (and its
    /// bundle sealed) when the bundle verifies as this backup, else the bundle and its sidecar
    /// go to quarantine.
    private func recover(_ record: BackupRecord, into report: inout ReconcileReport) throws(BackupError) {
        let (store, keys) = (localStore, try bundleKeys())
        let verdict = try store.open(record.filename) { (bundle) throws(BackupError) in
            try BundleVerifier(keys: keys, postgres: postgresEnvironment).verify(
                bundle: bundle, expectedSHA256: try store.checksum(of: record.filename), expectedID: record.id,
                temporary: dataDirectory.temporary)
        }
        guard verdict.isValid, let manifest = verdict.manifest else {
            report.quarantined += try store.quarantine(record.filename, withSidecar: true)
            return
        }
        try store.seal(record.filename, sha256: verdict.bundleSHA256)
        var completed = record
        completed.status = .completed
        completed.error = nil
        completed.sizeBytes = try store.size(of: record.filename)
        completed.sha256 = verdict.bundleSHA256
        completed.completedAt = record.completedAt ?? now()
        completed.describe(manifest)
        completed.verifiedAt = now()
        completed.doneBytes = completed.totalBytes
        completed.verificationError = nil
        // The upload a completed job would have queued (the process died before the record said so).
        if completed.offsiteStatus == .none { completed.offsiteStatus = initialOffsiteStatus() }
        try catalog.update(completed)
        report.recovered.append(record.id)
    }
}

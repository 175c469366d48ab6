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
}

extension BackupService {
    /// Files in `backups/` that belong there besides bundles and sidecars.
    static let ownFiles: Set<String> = [
        "catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "catalog.sqlite-journal", ".job.lock",
        ".server.lock", ".tmp", "quarantine",
    ]

    /// Brings the catalog and `backups/` into agreement; the caller holds the job lock.
    ///
    /// A bundle with no record is verified and adopted (type `imported`, its manifest's id and
    /// time, recorded now) or, when it does not verify, quarantined with its sidecar; any other unknown file
    /// is quarantined (never deleted); a completed record whose file vanished becomes `missing`.
    func reconcileHoldingLock(into report: inout ReconcileReport) throws(BackupError) {
        let records = try catalog.allRecords()
        let known = Set(records.map(\.filename))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.backups.path)) ?? []
        let present = Set(names)

        for name in names.sorted() where !Self.ownFiles.contains(name) && !known.contains(name) {
            if name.hasSuffix(BundleName.sidecarExtension) {
                let bundle = String(name.dropLast(BundleName.sidecarExtension.count))
                if known.contains(bundle) || present.contains(bundle) { continue }
                try quarantine(name, into: &report)
            } else if BundleName.isBundleFilename(name),
                FileOps.isRegularFile(dataDirectory.backups.appendingPathComponent(name))
            {
                if try !adopt(name, into: &report) {
                    try quarantine(name, into: &report)
                    if present.contains(BundleName.sidecar(for: name)) {
                        try quarantine(BundleName.sidecar(for: name), into: &report)
                    }
                }
            } else {
                try quarantine(name, into: &report)
            }
        }

        for record in records where record.status != .completed && present.contains(record.filename) {
            try recover(record, into: &report)
        }
        for record in records where record.status == .completed && !present.contains(record.filename) {
            var missing = record
            missing.status = .missing
            missing.error = "the bundle file \(record.filename) has vanished"
            try catalog.update(missing)
            report.missing.append(record.id)
        }
    }

    /// Verifies an unrecorded bundle and records it; false when it does not verify or its id is taken.
    private func adopt(_ name: String, into report: inout ReconcileReport) throws(BackupError) -> Bool {
        let url = dataDirectory.backups.appendingPathComponent(name)
        let verdict = try BundleVerifier().verify(
            bundle: url, expectedSHA256: sidecarHash(for: name), expectedID: nil, temporary: dataDirectory.temporary)
        guard verdict.isValid, let manifest = verdict.manifest, BackupID.isValid(manifest.id),
            (try? catalog.record(id: manifest.id)) == nil
        else { return false }
        var record = BackupRecord(
            id: manifest.id, type: .imported, createdAt: manifest.createdAt, note: nil, recordedAt: now())
        record.filename = name
        record.status = .completed
        record.sizeBytes = FileOps.size(of: url)
        record.sha256 = verdict.bundleSHA256
        record.completedAt = now()
        record.sourcePageCount = manifest.sqlite.map { Int64($0.pageCount) }
        record.verifiedAt = record.completedAt
        if sidecarHash(for: name) == nil {
            let sidecar = try OutputFile(
                creating: dataDirectory.backups.appendingPathComponent(BundleName.sidecar(for: name)))
            try sidecar.write(Array("\(verdict.bundleSHA256)  \(name)\n".utf8))
            try sidecar.sync()
        }
        try catalog.insert(record)
        report.adopted.append(manifest.id)
        return true
    }

    /// A record that is not `completed` but whose bundle is in `backups/`: completed when the
    /// bundle verifies as this backup, else the bundle and its sidecar go to quarantine.
    private func recover(_ record: BackupRecord, into report: inout ReconcileReport) throws(BackupError) {
        let url = dataDirectory.backups.appendingPathComponent(record.filename)
        let verdict = try BundleVerifier().verify(
            bundle: url, expectedSHA256: sidecarHash(for: record.filename), expectedID: record.id,
            temporary: dataDirectory.temporary)
        guard verdict.isValid, let manifest = verdict.manifest else {
            try quarantine(record.filename, into: &report)
            let sidecar = BundleName.sidecar(for: record.filename)
            if FileOps.isRegularFile(dataDirectory.backups.appendingPathComponent(sidecar)) {
                try quarantine(sidecar, into: &report)
            }
            return
        }
        var completed = record
        completed.status = .completed
        completed.error = nil
        completed.sizeBytes = FileOps.size(of: url)
        completed.sha256 = verdict.bundleSHA256
        completed.completedAt = record.completedAt ?? now()
        completed.sourcePageCount = manifest.sqlite.map { Int64($0.pageCount) }
        completed.verifiedAt = now()
        completed.doneBytes = completed.totalBytes
        completed.verificationError = nil
        try catalog.update(completed)
        report.recovered.append(record.id)
    }

    /// Moves a file from `backups/` into `quarantine/`, never overwriting what is there.
    private func quarantine(_ name: String, into report: inout ReconcileReport) throws(BackupError) {
        var target = dataDirectory.quarantine.appendingPathComponent(name)
        var suffix = 1
        while FileManager.default.fileExists(atPath: target.path) {
            target = dataDirectory.quarantine.appendingPathComponent("\(name).\(suffix)")
            suffix += 1
        }
        try FileOps.rename(dataDirectory.backups.appendingPathComponent(name), to: target)
        report.quarantined.append(name)
    }
}

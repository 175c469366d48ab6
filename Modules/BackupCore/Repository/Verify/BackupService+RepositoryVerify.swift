import Crypto
import Foundation

extension BackupService {
    /// The most problems a structure check lists one by one (the rest are counted).
    static let repositoryProblemLimit = 20

    /// Verifies incremental backup `record`: its index file is there (else the record goes
    /// `missing`), has the SHA-256 the record keeps, reads, decodes and is this backup's; every
    /// chunk it names is in a pack the catalog lists, whose file is there with the size the
    /// catalog records, and each file's chunks add up to its size. With `readData`, then, the
    /// backup is exported (every chunk read and checked against its hash, every file against its
    /// SHA-256) and the export verified as a bundle (``BundleVerifier``: integrity_check,
    /// pg_restore --list). Problems are reported, not thrown.
    func repositoryVerification(
        of record: BackupRecord, readData: Bool, missing: inout Bool,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) throws(BackupError) -> VerificationReport {
        let id = record.id
        let url = dataDirectory.repository.appendingPathComponent(RepositoryLayout.indexFolder)
            .appendingPathComponent(record.filename)
        guard RepositoryLayout.backupID(ofIndex: record.filename) == id, FileOps.isRegularFile(url) else {
            let reason = "the index file \(record.filename) is missing"
            try catalog.markMissing(id: id, reason: reason, at: now())
            missing = true
            throw .verificationFailed(reason: reason)
        }
        let indexSHA = try Self.sha256(of: url)
        var report = VerificationReport(bundleSHA256: indexSHA, codec: .zstd, problems: [])
        if let expected = record.sha256, expected != indexSHA {
            report.problems.append("the index file's SHA-256 is \(indexSHA), expected \(expected)")
        }
        // Keys that do not open an encrypted repository are thrown: that says nothing about it.
        let exporter = try repositoryExporter(for: record)
        let index: RepositoryIndex
        do throws(BackupError) {
            index = try repositoryIndex(of: record, with: exporter)
        } catch .verificationFailed(let reason) {
            report.problems.append(reason)
            return report
        }
        report.manifest = index.manifest
        report.encrypted = exporter.files.encrypted
        report.problems += try repositoryStructureProblems(index, encrypted: exporter.files.encrypted)
        guard readData, report.isValid else { return report }

        // Export (the logical bytes), then read the export back (counted as many again).
        let total = 2 * max(index.logicalBytes, 1)
        do throws(BackupError) {
            let verified = try withExport(of: record) { done, _ in
                progress(JobProgress(backupID: id, phase: .verify, doneBytes: done, totalBytes: total))
            } _: { (exported) throws(BackupError) in
                let size = max(exported.sizeBytes, 1)
                return try BundleVerifier(keys: .none, postgres: postgresEnvironment).verify(
                    bundle: exported.url, expectedSHA256: exported.sha256, expectedID: id,
                    temporary: dataDirectory.temporary
                ) { done in
                    let read = total / 2 + Int64(Double(done) / Double(size) * Double(total / 2))
                    progress(JobProgress(backupID: id, phase: .verify, doneBytes: min(read, total), totalBytes: total))
                }
            }
            report.problems += verified.problems
        } catch .verificationFailed(let reason) {
            report.problems.append(reason)
        }
        return report
    }

    /// What is wrong with where `index`'s chunks lie, without reading them: a chunk in no pack,
    /// a pack the catalog lists whose file is missing or has another size, a file whose chunks
    /// add up to another size. At most ``repositoryProblemLimit`` listed, then a count.
    func repositoryStructureProblems(_ index: RepositoryIndex, encrypted: Bool) throws(BackupError) -> [String] {
        let listed = Dictionary(
            try catalog.repositoryPacks().map { ($0.name, $0.sizeBytes) }, uniquingKeysWith: { first, _ in first })
        let sizes = Dictionary(
            index.manifest.entries.map { ($0.path, $0.size) }, uniquingKeysWith: { first, _ in first })
        let locator = CatalogChunkLocator(catalog: catalog)
        var problems: [String] = []
        var packVerdicts: [String: Bool] = [:]
        var located: [String: Int64] = [:]
        for file in index.files {
            if Task.isCancelled { throw .cancelled }
            var bytes: Int64 = 0
            var whole = true
            for chunk in file.chunks {
                if let length = located[chunk] {
                    bytes += length
                    continue
                }
                guard let location = try locator.locate(chunk) else {
                    problems.append("\(file.path): chunk \(chunk) is in no pack")
                    whole = false
                    continue
                }
                if packVerdicts[location.pack] == nil {
                    let problem = packProblem(location.pack, encrypted: encrypted, listedSize: listed[location.pack])
                    if let problem { problems.append("\(file.path): chunk \(chunk): \(problem)") }
                    packVerdicts[location.pack] = problem == nil
                }
                whole = whole && packVerdicts[location.pack] == true
                located[chunk] = location.entry.rawLength
                bytes += location.entry.rawLength
            }
            if whole, let size = sizes[file.path], bytes != size {
                problems.append("\(file.path): its chunks hold \(bytes) bytes, the index lists \(size)")
            }
        }
        guard problems.count > Self.repositoryProblemLimit else { return problems }
        return Array(problems.prefix(Self.repositoryProblemLimit))
            + ["and \(problems.count - Self.repositoryProblemLimit) more"]
    }

    /// What is wrong with pack `name` on disk, for the size the catalog lists (nil: unlisted).
    private func packProblem(_ name: String, encrypted: Bool, listedSize: Int64?) -> String? {
        let url = dataDirectory.repository.appendingPathComponent(RepositoryLayout.pack(name, encrypted: encrypted))
        guard let listedSize else { return "pack \(name) is not in the catalog's list of packs" }
        guard FileOps.isRegularFile(url), let size = FileOps.size(of: url) else { return "pack \(name) is missing" }
        guard size == listedSize else { return "pack \(name) has \(size) bytes, the catalog says \(listedSize)" }
        return nil
    }

    /// The SHA-256 (hex) of the file at `url`, read in 1 MiB pieces.
    static func sha256(of url: URL) throws(BackupError) -> String {
        let file = try InputFile(reading: url)
        var hash = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withMutableBytes { (raw) throws(BackupError) in try file.read(into: raw) }
            if count == 0 { break }
            hash.update(data: buffer[0..<count])
        }
        return hash.finalize().hexString
    }
}

import BackupCore
import Foundation
import TestSupport
import Testing

/// A damaged copy of a bundle, named for the failure messages.
struct Damage {
    var name: String
    var bytes: Data
}

extension Harness {
    /// Offers `damage` to the three ways in for a bundle, in process: `verify` with the damaged
    /// bytes in place of `bundle` (put back afterwards), `restore --file` of them, and an import
    /// of them. Each must refuse with one of `codes`; returns how many did (3 when all refused).
    /// `afterVerify` runs once the bundle is back, before the restore and the import.
    static func offerEverywhere(
        _ damage: Damage, service: BackupService, id: String, bundle: URL, original: Data, scratch: URL,
        codes: Set<String> = ["verification_failed"], afterVerify: () throws -> Void = {}
    ) async throws -> Int {
        var refusals = 0
        try damage.bytes.write(to: bundle)
        do {
            try await service.verify(id: id)
            Issue.record("verify accepted: \(damage.name)")
        } catch {
            #expect(codes.contains(error.code), "verify of \(damage.name): \(error)")
            refusals += 1
        }
        try original.write(to: bundle)
        try afterVerify()
        try damage.bytes.write(to: scratch)
        do {
            _ = try service.prepareRestore(.file(scratch))
            Issue.record("restore accepted: \(damage.name)")
        } catch {
            #expect(codes.contains(error.code), "restore of \(damage.name): \(error)")
            refusals += 1
        }
        let session = try service.beginImport()
        do {
            try Array(damage.bytes).withUnsafeBytes { bytes in try session.write(bytes) }
            _ = try session.finish()
            Issue.record("import accepted: \(damage.name)")
        } catch {
            #expect(codes.contains((error as? BackupError)?.code ?? "\(error)"), "import of \(damage.name): \(error)")
            refusals += 1
        }
        return refusals
    }
}

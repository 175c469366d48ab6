import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Restore outcome record")
struct RestoreOutcomeTests {
    @Test("the outcome written to the data directory reads back")
    func roundTrip() throws {
        let directory = TemporaryDirectory("restore-outcome")
        try directory.dataDirectory.prepare()
        let outcome = RestoreOutcome(
            backupID: "0123456789abcdef", finishedAt: Date(timeIntervalSince1970: 1_800_000_000.25),
            outcome: .succeeded,
            error: nil, safetyBackupID: nil)
        try directory.dataDirectory.recordRestore(outcome)
        let data = try Data(contentsOf: directory.url.appendingPathComponent("last-restore.json"))
        do {
            _ = try JSONDecoder.backupManager().decode(RestoreOutcome.self, from: data)
        } catch {
            Issue.record("\(error)")
        }
        #expect(directory.dataDirectory.lastRestore() == outcome)
    }
}

import Foundation
import Testing

@testable import BackupCore

@Suite("@ExplicitNull: every key present, null for none, without hand-written encoders")
struct ExplicitNullTests {
    let encoder = JSONEncoder.backupManager()

    @Test("a BackupInfo with nothing optional set writes every key, nulls included, byte for byte as before")
    func backupInfoBytes() throws {
        let info = BackupInfo(
            id: "0123456789abcdef", filename: "backup-20261125-120000-manual-0123456789abcdef.tar.gz", type: .manual,
            status: .failed, sizeBytes: nil, sha256: nil, createdAt: Date(timeIntervalSince1970: 1_790_000_000),
            completedAt: nil, note: nil, pinned: false, progress: nil, error: nil)
        let json = String(decoding: try encoder.encode(info), as: UTF8.self)
        #expect(
            json
                == #"{"actions":["pin","delete"],"completed_at":null,"created_at":"2026-09-21T14:13:20.000Z","#
                + #""dedup_ratio":null,"encrypted":false,"error":null,"#
                + #""filename":"backup-20261125-120000-manual-0123456789abcdef.tar.gz","format":"bundle","#
                + #""id":"0123456789abcdef","logical_bytes":null,"note":null,"note_args":null,"note_kind":null,"#
                + #""offsite":{"error":null,"key":null,"status":"none","uploaded_at":null},"pinned":false,"progress":null,"#
                + #""recorded_at":"2026-09-21T14:13:20.000Z","scope":"database","sha256":null,"size_bytes":null,"#
                + #""source_warnings":[],"status":"failed","store":"local","#
                + #""type":"manual","verification":null,"warnings":[]}"#)
        #expect(try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(json.utf8)) == info)
    }

    @Test("values are written as themselves (dates in the house format); an absent key decodes as nil")
    func valuesAndAbsentKeys() throws {
        let outcome = RestoreOutcome(
            backupID: "0123456789abcdef", finishedAt: Date(timeIntervalSince1970: 1_790_000_000), outcome: .failed,
            error: "locked", safetyBackupID: nil, writersWaitedMs: 12)
        let json = String(decoding: try encoder.encode(outcome), as: UTF8.self)
        #expect(
            json
                == #"{"backup_id":"0123456789abcdef","error":"locked","finished_at":"2026-09-21T14:13:20.000Z","#
                + #""outcome":"failed","safety_backup_id":null,"writers_waited_ms":12}"#)
        let sparse = #"{"finished_at":"2026-09-21T14:13:20.000Z","outcome":"succeeded"}"#
        let decoded = try JSONDecoder.backupManager().decode(RestoreOutcome.self, from: Data(sparse.utf8))
        #expect(decoded.backupID == nil && decoded.error == nil && decoded.writersWaitedMs == nil)
        let stats = String(
            decoding: try encoder.encode(
                BackupStats(
                    count: 0, countsByType: [:], countsByStatus: [:], totalBytes: 0, lastSuccessAt: nil,
                    lastFailureAt: nil, nextAutoAt: nil, history: [])), as: UTF8.self)
        #expect(
            stats
                == #"{"by_status":{},"by_type":{},"count":0,"history":[],"last_failure_at":null,"#
                + #""last_retention_failure":null,"last_success_at":null,"next_auto_at":null,"scopes":{},"total_bytes":0}"#
        )
    }
}

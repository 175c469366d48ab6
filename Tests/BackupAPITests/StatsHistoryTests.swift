import BackupCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import BackupAPI

@Suite("The history in GET /api/backups/stats")
struct StatsHistoryTests {
    @Test("history: the newest 30 finished backups, newest first, with size, duration and failures")
    func history() async throws {
        let directory = try RouteTests.dataDirectory("api-history")
        try await RouteTests.app(directory).test(.router) { client in
            let made = try await RouteTests.backup(client, note: "real")

            // Older records written by another connection: one still running, one failed.
            let other = try Catalog(dataDirectory: directory.dataDirectory)
            var inserted: [BackupRecord] = []
            for index in 0..<35 {
                var record = BackupRecord(
                    id: BackupID.make(), type: .auto,
                    createdAt: made.createdAt.addingTimeInterval(-3600 * Double(index + 1)),
                    note: nil)
                switch index {
                case 0: record.status = .running
                case 3:
                    record.status = .failed
                    record.error = "disk full"
                default:
                    record.status = .completed
                    record.sizeBytes = 1000 + Int64(index)
                    record.durationMs = 100 + Int64(index)
                }
                try other.insert(record)
                inserted.append(record)
            }

            let stats = try await client.execute(uri: "/api/backups/stats", method: .get, headers: .auth).json(
                BackupStats.self)
            let expected = [made.id] + inserted.filter { !$0.status.isActive }.prefix(29).map(\.id)
            #expect(stats.history.map(\.id) == expected)
            let newest = try #require(stats.history.first)
            #expect(newest.status == .completed && newest.sizeBytes == made.sizeBytes)
            #expect((newest.durationMs ?? -1) >= 0)
            let failed = try #require(stats.history.first { $0.id == inserted[3].id })
            #expect(failed.status == .failed && failed.sizeBytes == nil && failed.durationMs == nil)
            let completed = try #require(stats.history.first { $0.id == inserted[1].id })
            #expect(completed.sizeBytes == 1001 && completed.durationMs == 101)
            #expect(!stats.history.contains { $0.id == inserted[0].id })

            let raw = String(
                buffer: try await client.execute(uri: "/api/backups/stats", method: .get, headers: .auth).body)
            #expect(raw.contains("\"history\":[{\"created_at\":"))
            #expect(
                raw.contains(
                    "\"duration_ms\":null,\"id\":\"\(inserted[3].id)\",\"size_bytes\":null,\"status\":\"failed\""))
        }
    }
}

import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@testable import BackupCore

@Suite("Snapshot engine")
struct SnapshotTests {
    // Without the held read transaction this copy restarts on every commit and never ends while
    // the writer runs: the time limit turns that into a failure.
    @Test(
        "a 100 MB backup beside a continuous writer completes without restarts, blocks no writer, and is consistent",
        .timeLimit(.minutes(2)))
    func snapshotBesideBusyWriter() async throws {
        let directory = TemporaryDirectory("snapshot-writer")
        let source = directory.url.appendingPathComponent("app.sqlite")
        try SampleDatabase.create(at: source, megabytes: 110)
        let writer = ContinuousWriter(path: source.path)
        writer.start()
        #expect(writer.waitForCommits(moreThan: 50))

        let commitsBefore = writer.commits
        let destination = directory.url.appendingPathComponent("copy.sqlite")
        let result = try await SnapshotEngine(pagesPerStep: 256).snapshot(source: source, destination: destination)
        let commitsAtEnd = writer.commits
        // The writer is still going after the copy finished…
        #expect(writer.waitForCommits(moreThan: commitsAtEnd))
        writer.stop()

        // …it committed during the copy, never saw SQLITE_BUSY, and the copy never restarted.
        #expect(commitsAtEnd > commitsBefore)
        #expect(writer.busyErrors == 0)
        #expect(writer.otherErrors.isEmpty)
        #expect(result.restarts == 0)
        #expect(result.byteCount >= 100 * 1024 * 1024)

        #expect(try TestDB.invariantsHold(destination.path))
        #expect(try TestDB.strings(destination.path, "PRAGMA integrity_check") == ["ok"])
        #expect(try TestDB.int(destination.path, "SELECT COUNT(*) FROM ledger") ?? 0 > 0)
    }

    @Test("the source is opened read-only and its journal mode is left as it was")
    func sourceUntouched() async throws {
        let directory = TemporaryDirectory("snapshot-readonly")
        let source = directory.url.appendingPathComponent("app.sqlite")
        try TestDB.execute(source.path, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3)")
        // A read-only file: any attempt to write or change the journal mode would fail.
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: source.path)
        let before = try Data(contentsOf: source)

        let destination = directory.url.appendingPathComponent("copy.sqlite")
        let result = try await SnapshotEngine().snapshot(source: source, destination: destination)

        #expect(result.pageCount > 0)
        #expect(try Data(contentsOf: source) == before)
        #expect(try TestDB.strings(source.path, "PRAGMA journal_mode", readonly: true) == ["delete"])
        #expect(try TestDB.int(destination.path, "SELECT COUNT(*) FROM t") == 3)
    }

    @Test("progress is reported in pages and bytes up to the whole database")
    func progressReported() async throws {
        let directory = TemporaryDirectory("snapshot-progress")
        let source = directory.url.appendingPathComponent("app.sqlite")
        try SampleDatabase.create(at: source, megabytes: 4)
        let steps = Mutex<[SnapshotProgress]>([])
        let result = try await SnapshotEngine(pagesPerStep: 100).snapshot(
            source: source, destination: directory.url.appendingPathComponent("copy.sqlite")
        ) { step in steps.withLock { $0.append(step) } }
        let recorded = steps.withLock { $0 }
        #expect(recorded.count > 5)
        #expect(recorded.map(\.pagesDone) == recorded.map(\.pagesDone).sorted())
        #expect(recorded.last?.pagesDone == result.pageCount)
        #expect(recorded.last?.bytesDone == result.byteCount)
    }

    @Test("cancelling the task stops the copy and leaves no destination file")
    func cancellationRemovesDestination() async throws {
        let directory = TemporaryDirectory("snapshot-cancel")
        let source = directory.url.appendingPathComponent("app.sqlite")
        try SampleDatabase.create(at: source, megabytes: 8)
        let destination = directory.url.appendingPathComponent("copy.sqlite")
        let gate = PauseGate()
        let task = Task {
            try await SnapshotEngine(pagesPerStep: 16).snapshot(source: source, destination: destination) { _ in
                gate.pauseOnFirstCall()
            }
        }
        await gate.waitUntilPaused()
        task.cancel()
        gate.release()
        await #expect(throws: BackupError.cancelled) { try await task.value }
        #expect(!FileManager.default.fileExists(atPath: destination.path))
    }

    @Test("a missing source is a clear error")
    func missingSource() async throws {
        let directory = TemporaryDirectory("snapshot-missing")
        await #expect(throws: BackupError.self) {
            try await SnapshotEngine().snapshot(
                source: directory.url.appendingPathComponent("nope.sqlite"),
                destination: directory.url.appendingPathComponent("copy.sqlite"))
        }
    }
}

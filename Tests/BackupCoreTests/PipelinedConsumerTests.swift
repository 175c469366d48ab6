import Foundation
import Testing

@testable import BackupCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The chunker's own thread: every call arrives in order and whole, its first error reaches the writer")
struct PipelinedConsumerTests {
    /// Records every call as text (a piece as its bytes' sum and count), on the thread it runs on;
    /// throws at the `failAt`-th piece of data.
    final class Recorder: BundleEntryConsumer, @unchecked Sendable {
        var calls: [String] = []
        var threads: Set<UInt> = []
        var failAt: Int?
        var pieces = 0

        func begin(_ entry: TarEntry, superseding: Bool) throws(BackupError) {
            note("begin \(entry.path) \(superseding)")
        }

        func data(_ piece: UnsafeRawBufferPointer) throws(BackupError) {
            pieces += 1
            if pieces == failAt { throw .io(path: "chunker", reason: "failed at piece \(pieces)") }
            note("data \(piece.count) \(piece.reduce(0) { $0 + Int($1) })")
        }

        func end(_ entry: Manifest.Entry) throws(BackupError) {
            note("end \(entry.path) \(entry.sha256 ?? "-")")
        }

        private func note(_ call: String) {
            calls.append(call)
            threads.insert(UInt(bitPattern: Int(bitPattern: pthread_self())))
        }
    }

    /// Many files of pieces of varied sizes (bigger ones late, so buffers are replaced), in a
    /// fixed pseudo-random pattern; feeds `consumer` and returns the calls it should see.
    static func feed(_ consumer: any BundleEntryConsumer, files: Int = 40) throws -> [String] {
        var expected: [String] = []
        var seed: UInt64 = 7
        for file in 0..<files {
            let entry = TarEntry(path: "files/f\(file)", size: 0, mode: 0o644, mtime: 0)
            try consumer.begin(entry, superseding: file % 7 == 3)
            expected.append("begin files/f\(file) \(file % 7 == 3)")
            for _ in 0..<(file % 5) {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let count = 1 + Int(seed >> 40) % (1_000 * (file + 1))
                let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ file) }
                try bytes.withUnsafeBytes { raw in try consumer.data(raw) }
                expected.append("data \(count) \(bytes.reduce(0) { $0 + Int($1) })")
            }
            let listed = Manifest.Entry(
                path: entry.path, type: .file, size: 0, sha256: "h\(file)", mode: 0o644, mtime: 0, target: nil)
            try consumer.end(listed)
            expected.append("end files/f\(file) h\(file)")
        }
        return expected
    }

    @Test("the inner consumer sees exactly the calls made, in order, on one thread of the pipeline's own")
    func callsArriveInOrder() throws {
        let recorder = Recorder()
        let pipeline = PipelinedConsumer(recorder)
        let expected = try Self.feed(pipeline)
        try pipeline.finish()
        #expect(recorder.calls == expected)
        #expect(recorder.threads.count == 1)
        #expect(!recorder.threads.contains(UInt(bitPattern: Int(bitPattern: pthread_self()))))
    }

    @Test("an error thrown on the pipeline's thread is thrown to the writer, and nothing after it runs")
    func errorReachesTheWriter() throws {
        let recorder = Recorder()
        recorder.failAt = 5
        let pipeline = PipelinedConsumer(recorder)
        var thrown: BackupError?
        do {
            _ = try Self.feed(pipeline)
            try pipeline.finish()
        } catch {
            thrown = error as? BackupError
        }
        pipeline.stop()
        #expect(thrown?.message.contains("failed at piece 5") == true)
        #expect(recorder.pieces == 5)
        #expect(recorder.calls.filter { $0.hasPrefix("data") }.count == 4)
    }

    @Test("stop() after the writer failed drops what is queued and ends the thread")
    func stopEndsTheThread() throws {
        let recorder = Recorder()
        let pipeline = PipelinedConsumer(recorder)
        _ = try Self.feed(pipeline, files: 10)
        pipeline.stop()
        // The thread has ended: the recorder is the test's alone again, and a later call is not run.
        let seen = recorder.calls.count
        #expect(seen <= (try Self.feed(Recorder(), files: 10)).count)
        #expect(throws: BackupError.self) {
            try pipeline.begin(TarEntry(path: "late", size: 0, mode: 0o644, mtime: 0), superseding: false)
        }
        #expect(recorder.calls.count == seen)
    }
}

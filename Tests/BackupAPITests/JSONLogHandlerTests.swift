import BackupCore
import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("JSONLogHandler: one JSON object per line, whole lines under concurrency")
struct JSONLogHandlerTests {
    @Test("a line holds time (RFC 3339, ms, UTC), level, label, message, source and the metadata, escaped")
    func lineShape() throws {
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_795_000_000.25), level: .warning, label: "backup-api",
            message: "quote \" backslash \\ newline \n tab \t bell \u{07} é",
            source: "BackupCore",
            metadata: [
                "backup_id": "20261126-abc", "bytes": .stringConvertible(1234),
                "nested": ["inner": "x", "list": ["a", "b"]], "message": "shadowed",
            ])
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(object["time"] as? String == "2026-11-18T11:06:40.250Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "backup-api")
        #expect(object["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        #expect(object["source"] as? String == "BackupCore")
        #expect(object["backup_id"] as? String == "20261126-abc")
        #expect(object["bytes"] as? String == "1234")
        #expect(object["metadata.message"] as? String == "shadowed")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["inner"] as? String == "x" && nested["list"] as? [String] == ["a", "b"])
    }

    @Test("loggers on many tasks write whole lines: every line of the pipe parses, none is lost")
    func concurrentLines() async throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let reader = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true)
        // The blocking read runs on a thread of its own, never on the cooperative pool: there it
        // would hold one of the pool's two threads while the writers below need them, and a
        // full `make test` once hung on exactly that.
        let collected = Task {
            await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: reader.readDataToEndOfFile()) }.start()
            }
        }
        let writer = descriptors[1]
        let long = String(repeating: "x", count: 10_000)  // past PIPE_BUF: one write(2) is not atomic
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var logger = Logger(label: "task-\(task)") { JSONLogHandler(label: $0, output: writer) }
                    logger.logLevel = .trace
                    for index in 0..<50 {
                        logger.trace("line \(index)", metadata: ["task": "\(task)", "payload": "\(long)"])
                    }
                }
            }
        }
        close(writer)
        let text = String(decoding: await collected.value, as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 400)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["payload"] as? String == long)
        }
    }
}

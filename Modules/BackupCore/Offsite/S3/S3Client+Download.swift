import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

extension S3Client {
    /// Streams the object into `file` (created here; it must not exist) in constant memory,
    /// hashing as it writes; returns the size and the SHA-256 (hex). A transient failure
    /// starts the transfer again from the beginning; a final failure removes the file.
    public func download(
        key: String, to file: URL, progress: @escaping @Sendable (Int64) -> Void
    ) async throws(BackupError) -> (Int64, String) {
        let sink = try await BlockingWork.run { () throws(BackupError) -> DownloadSink in try DownloadSink(file) }
        let request = S3Request(method: .GET, key: key, operation: "GetObject")
        do {
            let result = try await withRetries { () async throws(S3AttemptFailure) -> (Int64, String) in
                try await self.attempt(request, accepting: []) { response throws(S3AttemptFailure) in
                    try await self.receive(response, into: sink, key: key, progress: progress)
                }
            }
            try await BlockingWork.run { () throws(BackupError) in try sink.finish() }
            return result
        } catch {
            await BlockingWork.run { sink.discard() }
            throw error
        }
    }

    /// Writes one answer's body to `sink`, about a MiB at a time on a blocking thread.
    private func receive(
        _ response: HTTPClientResponse, into sink: DownloadSink, key: String,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws(S3AttemptFailure) -> (Int64, String) {
        let expected = response.headers.first(name: "content-length").flatMap { Int64($0) }
        do {
            try await BlockingWork.run { () throws(BackupError) in try sink.restart() }
            var pending = ByteBuffer()
            for try await chunk in response.body {
                var chunk = chunk
                pending.writeBuffer(&chunk)
                if pending.readableBytes >= 1 << 20 {
                    let batch = pending
                    pending = ByteBuffer()
                    let written = try await BlockingWork.run { () throws(BackupError) -> Int64 in try sink.write(batch)
                    }
                    progress(written)
                }
            }
            let batch = pending
            let written = try await BlockingWork.run { () throws(BackupError) -> Int64 in try sink.write(batch) }
            progress(written)
        } catch let error as BackupError {
            throw S3AttemptFailure(error: error, retryable: false)
        } catch {
            throw S3Failures.transport(error, host: endpointHost, timeouts: timeouts)
        }
        let (size, sha256) = sink.digest()
        if let expected, expected != size {
            throw .offsite(
                .integrity, "\"\(key)\" arrived with \(size) bytes where the server announced \(expected)",
                retryable: true)
        }
        return (size, sha256)
    }
}

/// The file a download writes, with the running SHA-256 of what was written. Its state sits
/// behind a mutex; the download uses it from one task at a time.
final class DownloadSink: Sendable {
    private struct State {
        var output: OutputFile?
        var hash = SHA256()
        var written: Int64 = 0
    }

    let url: URL
    private let state: Mutex<State>

    init(_ url: URL) throws(BackupError) {
        if FileManager.default.fileExists(atPath: url.path) {
            throw .io(path: url.path, reason: "already exists; a download never overwrites a file")
        }
        self.url = url
        state = Mutex(State())
    }

    /// Empties the file (a new try begins at byte 0).
    func restart() throws(BackupError) {
        try state.withLock { (state) throws(BackupError) in
            state.output?.close()
            try? FileManager.default.removeItem(at: url)
            state.output = try OutputFile(creating: url)
            state.hash = SHA256()
            state.written = 0
        }
    }

    /// Appends `buffer`; returns the bytes written in all.
    func write(_ buffer: ByteBuffer) throws(BackupError) -> Int64 {
        try state.withLock { (state) throws(BackupError) -> Int64 in
            guard let output = state.output else { throw .io(path: url.path, reason: "not open") }
            var failure: BackupError?
            buffer.withUnsafeReadableBytes { raw in
                do throws(BackupError) {
                    try output.write(raw)
                    state.hash.update(bufferPointer: raw)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            state.written += Int64(buffer.readableBytes)
            return state.written
        }
    }

    func digest() -> (Int64, String) {
        state.withLock { ($0.written, $0.hash.finalize().hexString) }
    }

    /// Makes the file durable and closes it.
    func finish() throws(BackupError) {
        try state.withLock { (state) throws(BackupError) in
            try state.output?.sync()
            state.output?.close()
            state.output = nil
        }
    }

    /// Closes and removes the file.
    func discard() {
        state.withLock { state in
            state.output?.close()
            state.output = nil
        }
        try? FileManager.default.removeItem(at: url)
    }
}

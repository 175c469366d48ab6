import CZstd

/// Streams bytes into one zstd frame with libzstd's multi-threaded compressor
/// (`ZSTD_c_nbWorkers`) and hands the compressed bytes to `sink`, in order, on the caller's thread.
///
/// Written bytes go straight from the caller's buffer into libzstd (which copies them into its
/// jobs, compressed on its own threads); compressed bytes come out in one 1 MiB buffer that is
/// passed to `sink` as it is. The frame carries its content checksum (XXH64), which `zstd -d`
/// and ``ZstdReader`` check.
final class ZstdWriter: CompressingWriter {
    static let outputBufferSize = 1 << 20
    /// Input bytes per job handed to a worker at levels 1 to 3.
    static let fastJobSize: Int32 = 1 << 20

    private let context: OpaquePointer
    private let sink: CompressedSink
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false

    /// - Parameters:
    ///   - level: 1 (fastest) to 19 (smallest).
    ///   - threads: libzstd worker threads; 0 compresses on the caller's thread.
    init(level: Int, threads: Int, sink: @escaping CompressedSink) throws(BackupError) {
        guard let context = ZSTD_createCCtx() else {
            throw .io(path: "zstd", reason: "cannot create a compression context")
        }
        self.context = context
        self.sink = sink
        output = .allocate(byteCount: Self.outputBufferSize, alignment: 16)
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(min(max(level, 1), 19))))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        // A libzstd built without threads refuses workers; it then compresses on this thread.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(max(threads, 0)))
        // At the fast levels, 1 MiB jobs instead of libzstd's 2 MiB: about 6 MiB less peak memory
        // with two workers, for the same time and 0.01% more bytes (150 MB database, 2 cores).
        // Higher levels keep libzstd's job size, which follows their larger window.
        if level <= 3 { _ = ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Self.fastJobSize) }
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        guard bytes.count > 0 else { return }
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try compress(&input, ZSTD_e_continue)
        }
    }

    /// Flushes what libzstd holds, ends the frame (with its checksum) and stops its threads.
    func finish() throws(BackupError) {
        precondition(!finished, "finish() called twice")
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try compress(&input, ZSTD_e_end) != 0 {}
        finished = true
    }

    /// One call of `ZSTD_compressStream2`; passes its output on and returns what it returned
    /// (for `ZSTD_e_end`, the bytes still to flush).
    private func compress(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws(BackupError) -> Int {
        var out = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &out, &input, directive)
        try check(remaining)
        if out.pos > 0 {
            try sink(UnsafeRawBufferPointer(rebasing: output[0..<out.pos]))
        }
        return remaining
    }

    private func check(_ code: Int) throws(BackupError) {
        if ZSTD_isError(code) != 0 {
            throw .io(path: "zstd", reason: "compression failed (\(String(cString: ZSTD_getErrorName(code))))")
        }
    }
}

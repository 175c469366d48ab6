import Foundation

/// A small file written when a job starts and removed when it ends, so that a disk filled up by
/// someone else meanwhile still has room for the catalog to record how the job ended.
/// Best effort: when it cannot be written, the job goes on without it.
struct SpaceReserve {
    static let bytes = 1 << 20
    let url: URL

    init(in directory: URL, name: String) {
        url = directory.appendingPathComponent(name)
        guard let file = try? OutputFile(creating: url) else { return }
        defer { file.close() }
        if (try? file.write([UInt8](repeating: 0, count: Self.bytes))) == nil {
            FileOps.removeIfPresent(url)
        }
    }

    /// Removes the file, giving its space back; harmless when called twice.
    func release() {
        FileOps.removeIfPresent(url)
    }
}

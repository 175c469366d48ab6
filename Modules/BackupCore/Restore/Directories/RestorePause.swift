import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A test hook of debug builds: with `BACKUP_TEST_PAUSE_AT=<point>` in the environment, a
/// restore that reaches `point` (`staged`, `swap:1:aside`, `swap:1`, `database-committed`,
/// `database-replaced`, …), a repository's garbage collection (`gc:<step>`) or an incremental
/// backup (`incremental:key-placed`, `incremental:pack-placed`, `incremental:pack-recorded`,
/// `incremental:index-placed`) says so on stderr (`paused at <point>`), creates the file
/// `BACKUP_TEST_PAUSED_FILE` names (if any), and stops there for good, so that a crash test can
/// kill the process (SIGKILL) at exactly that moment. Release builds compile it to nothing.
enum RestorePause {
    static func reach(_ point: String) {
        #if DEBUG
            let environment = ProcessInfo.processInfo.environment
            guard environment["BACKUP_TEST_PAUSE_AT"] == point else { return }
            FileHandle.standardError.write(Data("paused at \(point)\n".utf8))
            if let marker = environment["BACKUP_TEST_PAUSED_FILE"] {
                FileManager.default.createFile(atPath: marker, contents: Data(point.utf8))
            }
            while true { _ = pause() }
        #endif
    }
}

import BackupCore
import Foundation
import Synchronization

/// A one-line progress bar on standard error, redrawn at most once per whole percent.
final class ProgressBar: Sendable {
    private let lastDrawn = Mutex<String>("")

    func update(_ progress: JobProgress) {
        let width = 30
        let filled = Int(progress.fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = Int(progress.fraction * 100)
        let phase = progress.phase.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let line =
            "\r\(phase) [\(bar)] \(percent)%  \(ByteCount.format(progress.doneBytes)) / \(ByteCount.format(progress.totalBytes))"
        let key = "\(progress.phase.rawValue) \(percent)"
        let changed = lastDrawn.withLock { last in
            guard last != key else { return false }
            last = key
            return true
        }
        if changed {
            FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        }
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

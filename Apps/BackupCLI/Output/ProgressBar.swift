import BackupCore
import Foundation
import Synchronization

/// A one-line progress bar on standard error, redrawn at most once per whole percent.
///
/// Each phase is shown on its own against what the operator knows: a backup's `snapshot` and
/// then `compress` each run to the database's size (`snapshot [###…] 23%  12.0 MiB / 52.0 MiB`),
/// not to a job total that counts the database twice.
final class ProgressBar: Sendable {
    private let lastDrawn = Mutex<String>("")

    func update(_ progress: JobProgress) {
        let key = "\(progress.phase.rawValue) \(Int(progress.phaseFraction * 100))"
        let changed = lastDrawn.withLock { last in
            guard last != key else { return false }
            last = key
            return true
        }
        if changed {
            FileHandle.standardError.write(Data(("\r" + Self.line(progress) + "\u{1B}[K").utf8))
        }
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// The text of the bar for `progress`: phase, bar, percent of the phase, bytes of the phase.
    static func line(_ progress: JobProgress, width: Int = 30) -> String {
        let fraction = progress.phaseFraction
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let phase = progress.phase.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let done = ByteCount.format(progress.phaseDoneBytes ?? progress.doneBytes)
        let total = ByteCount.format(progress.phaseTotalBytes ?? progress.totalBytes)
        return "\(phase) [\(bar)] \(Int(fraction * 100))%  \(done) / \(total)"
    }
}

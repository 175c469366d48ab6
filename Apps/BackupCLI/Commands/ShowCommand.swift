import ArgumentParser
import BackupCore
import Foundation

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one backup.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    func run() async throws {
        let service = try global.readOnlyService()
        let info = try service.catalog.record(matching: id).info
        let output = global.output
        if global.json {
            output.printJSON(info)
            return
        }
        var lines: [(String, String)] = [
            ("id", info.id),
            ("file", service.bundleLocation(of: info)),
            ("type", info.type.rawValue),
            ("scope", info.scope.rawValue),
            ("status", output.paint(statusOf: info)),
            ("size", info.sizeBytes.map { "\(ByteCount.format($0)) (\($0) bytes)" } ?? "-"),
            ("sha256", info.sha256 ?? "-"),
            ("created", LocalTime.format(info.createdAt)),
            ("recorded", LocalTime.format(info.recordedAt)),
            ("completed", LocalTime.format(info.completedAt)),
            ("pinned", info.pinned ? "yes" : "no"),
            ("note", info.noteText ?? "-"),
        ]
        if info.offsite.status != .none {
            let copy = [info.offsite.status.rawValue, info.offsite.key, info.offsite.error].compactMap { $0 }
            lines.append(("off-site", copy.joined(separator: "  ")))
        }
        if let progress = info.progress { lines.append(("progress", "\(progress.percent)%")) }
        if let error = info.error { lines.append(("error", error)) }
        if let verification = info.verification {
            let checked = LocalTime.format(verification.checkedAt)
            lines.append(
                verification.ok
                    ? ("verified", "ok \(checked)")
                    : ("verified", "\(output.paint("! failed", .red)) \(checked): \(verification.error ?? "")"))
        }
        if info.warnings.contains(BackupInfo.createdAtInFuture) {
            lines.append(
                ("warning", "created is ahead of this machine's clock when recorded; retention counts from recorded"))
        }
        for warning in info.sourceWarnings { lines.append(("warning", warning)) }
        for (key, value) in lines {
            output.line(key.padding(toLength: 10, withPad: " ", startingAt: 0) + value)
        }
    }
}

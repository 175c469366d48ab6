import ArgumentParser
import BackupCore
import Foundation

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show or change the backup settings.",
        subcommands: [ShowSettings.self, SetSettings.self])

    struct ShowSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the settings.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let settings = try global.readOnlyService().catalog.settings()
            let output = global.output
            if global.json {
                output.printJSON(settings)
                return
            }
            for (key, value) in SettingsKeys.describe(settings) {
                output.line(key.padding(toLength: 26, withPad: " ", startingAt: 0) + value)
            }
        }
    }

    struct SetSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change settings: KEY=VALUE…",
            discussion: """
                Keys: \(SettingsKeys.names.joined(separator: ", ")). An empty webhook_url removes it.

                When the new retention settings would delete backups now, they are listed and \
                nothing is saved unless you confirm: on a terminal you are asked, otherwise pass \
                --yes. --dry-run only lists them.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "KEY=VALUE pairs.")
        var assignments: [String]

        @Flag(help: "Save even when retention then deletes backups, without asking.")
        var yes = false

        @Flag(help: "Only show the settings as they would be and what retention would delete.")
        var dryRun = false

        func validate() throws {
            guard !assignments.isEmpty else { throw ValidationError("give at least one KEY=VALUE") }
        }

        func run() async throws {
            let service = try global.service()
            var settings = try service.catalog.settings()
            for assignment in assignments {
                let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw BackupError.invalidInput(fields: [assignment: "must be KEY=VALUE"])
                }
                try SettingsKeys.apply(String(parts[0]), String(parts[1]), to: &settings)
            }
            let output = global.output
            let preview = try service.previewSettings(settings)
            if dryRun {
                if global.json {
                    output.printJSON(preview.asPreview)
                } else {
                    list(preview.deleted, verb: "would delete")
                }
                return
            }
            if !preview.deleted.isEmpty, !yes { try confirm(preview.deleted) }
            let change = try service.saveSettings(settings)
            if global.json {
                output.printJSON(change.settings)
            } else {
                output.line("saved")
                list(change.deleted, verb: "deleted", quietWhenNone: true)
            }
        }

        /// Lists what retention deletes: a count line, then id, local time, type and note per backup.
        private func list(_ backups: [BackupInfo], verb: String, quietWhenNone: Bool = false) {
            let output = global.output
            if backups.isEmpty {
                if !quietWhenNone { output.line("retention \(verb) no backups") }
                return
            }
            output.line("retention \(verb) \(backups.count) backup\(backups.count == 1 ? "" : "s"):")
            for backup in backups {
                let note = backup.noteText.map { "  \($0)" } ?? ""
                output.line("  \(backup.id)  \(LocalTime.format(backup.createdAt))  \(backup.type.rawValue)\(note)")
            }
        }

        /// Shows what would be deleted and asks on a terminal; elsewhere refuses (exit 1).
        private func confirm(_ doomed: [BackupInfo]) throws {
            let output = global.output
            let count = "\(doomed.count) backup\(doomed.count == 1 ? "" : "s")"
            guard !global.json, Terminal.isTerminal(.standardError), Terminal.isStandardInputTerminal else {
                if !global.json { list(doomed, verb: "would delete") }
                throw BackupError.retentionWouldDelete(count: doomed.count)
            }
            list(doomed, verb: "would delete")
            let answer = Terminal.readLine(prompt: "Save the settings and delete \(count)? [y/N] ")
            guard let answer, ["y", "yes"].contains(answer.lowercased()) else {
                output.note("not saved")
                throw CommandFailure(status: ExitStatus.failed)
            }
        }
    }
}

/// The settings as flat `KEY=VALUE` names, the same names as the API's JSON fields.
enum SettingsKeys {
    static let names = BackupSettings.fieldNames.map {
        $0.hasPrefix("retention.") ? String($0.dropFirst("retention.".count)) : $0
    }

    static func describe(_ settings: BackupSettings) -> [(String, String)] {
        [
            ("enabled", "\(settings.enabled)"), ("interval_hours", "\(settings.intervalHours)"),
            ("retention.keep_last", "\(settings.retention.keepLast)"),
            ("retention.keep_days", "\(settings.retention.keepDays)"),
            ("retention.keep_daily", "\(settings.retention.keepDaily)"),
            ("retention.keep_weekly", "\(settings.retention.keepWeekly)"),
            ("retention.keep_monthly", "\(settings.retention.keepMonthly)"),
            ("retention.include_manual", "\(settings.retention.includeManual)"),
            ("compression_level", "\(settings.compressionLevel)"), ("webhook_url", settings.webhookURL ?? "-"),
            ("restore_lock_timeout_seconds", "\(settings.restoreLockTimeoutSeconds)"),
            ("max_import_bytes", "\(settings.maxImportBytes)"),
        ]
    }

    static func apply(_ key: String, _ value: String, to settings: inout BackupSettings) throws(BackupError) {
        let name = key.hasPrefix("retention.") ? String(key.dropFirst("retention.".count)) : key
        func integer() throws(BackupError) -> Int {
            guard let number = Int(value) else { throw .invalidInput(fields: [jsonName(name): "must be an integer"]) }
            return number
        }
        func boolean() throws(BackupError) -> Bool {
            switch value.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw .invalidInput(fields: [jsonName(name): "must be true or false"])
            }
        }
        switch name {
        case "enabled": settings.enabled = try boolean()
        case "interval_hours": settings.intervalHours = try integer()
        case "keep_last": settings.retention.keepLast = try integer()
        case "keep_days": settings.retention.keepDays = try integer()
        case "keep_daily": settings.retention.keepDaily = try integer()
        case "keep_weekly": settings.retention.keepWeekly = try integer()
        case "keep_monthly": settings.retention.keepMonthly = try integer()
        case "include_manual": settings.retention.includeManual = try boolean()
        case "compression_level": settings.compressionLevel = try integer()
        case "webhook_url": settings.webhookURL = value.isEmpty ? nil : value
        case "restore_lock_timeout_seconds": settings.restoreLockTimeoutSeconds = try integer()
        case "max_import_bytes": settings.maxImportBytes = Int64(try integer())
        default: throw .invalidInput(fields: [key: "is not a setting; use one of \(names.joined(separator: ", "))"])
        }
    }

    /// The JSON path the API uses for a field, so messages match.
    private static func jsonName(_ name: String) -> String {
        name.hasPrefix("keep_") || name == "include_manual" ? "retention.\(name)" : name
    }
}

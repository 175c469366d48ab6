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
            let settings = try global.readOnlyService().settings()
            let output = global.output
            if global.json {
                output.printJSON(settings)
                return
            }
            let lines = SettingsKeys.describe(settings)
            let width = (lines.map(\.0.count).max() ?? 0) + 2
            for (key, value) in lines {
                output.line(key.padding(toLength: width, withPad: " ", startingAt: 0) + value)
            }
        }
    }

    struct SetSettings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change settings: KEY=VALUE…",
            discussion: """
                Keys: \(SettingsPatch.keys.joined(separator: ", ")). An empty webhook_url removes it. \
                codec is gzip or zstd; compression_level is 1-9 with gzip, 1-19 with zstd. format is \
                bundle (the default) or incremental: new backups go into backups/repository/, each \
                adding only the chunks no earlier backup stored (encrypted when encryption is on).

                directories=/srv/app/uploads,/srv/app/media lists the application's file \
                directories (absolute, existing, outside the data directory; empty clears them); \
                exclude='*.tmp,cache/**' leaves paths out of every directory; default_scope is \
                database, files, full or auto (full when directories are configured, else \
                database); retention.per_scope=true applies retention to each scope separately.

                offsite.secret_access_key=- reads the secret from one line of standard input, so it \
                stays out of shell history and process listings; an empty value removes it. \
                AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment override the stored \
                key id and secret.

                encryption.enabled=true encrypts new bundles in the age format: to DATA_DIR/backup-key \
                (backup key generate) and encryption.recipients (age1…,age1…), or, when \
                encryption.passphrase_file (or BACKUP_PASSPHRASE, which overrides it) gives a \
                passphrase, to that passphrase alone.

                heartbeat_url=https://hc-ping.com/UUID is requested (GET) after each backup, \
                UUID/fail after a failed one. alerts.telegram_bot_token=- reads the bot token from \
                standard input (BACKUP_TELEGRAM_BOT_TOKEN overrides it); with alerts.telegram_chat_id \
                failed backups and uploads are sent to that chat (alerts.on_success=true: successes \
                too), in alerts.language (en or ru).

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
            let patch = try SettingsPatch(assignments: assignments) { readLine(strippingNewline: true) }
            let service = try global.service()
            let settings = try patch.applied(to: try service.settings())
            let output = global.output
            let preview = try service.previewSettings(
                settings, secretChange: patch.secretChange, tokenChange: patch.tokenChange)
            if dryRun {
                if global.json {
                    output.printJSON(preview.asPreview)
                } else {
                    list(preview.deleted, verb: "would delete")
                }
                return
            }
            if !preview.deleted.isEmpty, !yes { try confirm(preview.deleted) }
            let change = try service.saveSettings(
                settings, secretChange: patch.secretChange, tokenChange: patch.tokenChange)
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

/// The settings as flat `KEY=VALUE` lines, the same names as the API's JSON fields.
enum SettingsKeys {
    static func describe(_ settings: BackupSettings) -> [(String, String)] {
        [
            ("enabled", "\(settings.enabled)"), ("interval_hours", "\(settings.intervalHours)"),
            ("retention.keep_last", "\(settings.retention.keepLast)"),
            ("retention.keep_days", "\(settings.retention.keepDays)"),
            ("retention.keep_daily", "\(settings.retention.keepDaily)"),
            ("retention.keep_weekly", "\(settings.retention.keepWeekly)"),
            ("retention.keep_monthly", "\(settings.retention.keepMonthly)"),
            ("retention.include_manual", "\(settings.retention.includeManual)"),
            ("retention.per_scope", "\(settings.retention.perScope)"), ("format", settings.format.rawValue),
            ("codec", settings.codec.rawValue),
            ("compression_level", "\(settings.compressionLevel)"), ("webhook_url", settings.webhookURL ?? "-"),
            ("restore_lock_timeout_seconds", "\(settings.restoreLockTimeoutSeconds)"),
            ("max_import_bytes", "\(settings.maxImportBytes)"), ("heartbeat_url", settings.heartbeatURL ?? "-"),
        ] + directories(settings) + offsite(settings.offsite) + encryption(settings.encryption)
            + alerts(settings.alerts)
    }

    /// The chat alerts' fields; the bot token only as whether one is set.
    private static func alerts(_ alerts: AlertSettings) -> [(String, String)] {
        [
            ("alerts.telegram_bot_token_set", "\(alerts.telegramBotTokenSet)"),
            ("alerts.telegram_chat_id", alerts.telegramChatID ?? "-"),
            ("alerts.telegram_api_base", alerts.telegramAPIBase), ("alerts.language", alerts.language.rawValue),
            ("alerts.on_success", "\(alerts.onSuccess)"),
        ]
    }

    /// The file directories, exclude patterns and the default scope (`auto (full)` when automatic).
    private static func directories(_ settings: BackupSettings) -> [(String, String)] {
        [
            ("directories", settings.directories.isEmpty ? "-" : settings.directories.joined(separator: ",")),
            ("exclude", settings.exclude.isEmpty ? "-" : settings.exclude.joined(separator: ",")),
            (
                "default_scope",
                settings.defaultScope?.rawValue ?? "auto (\(settings.scopeByDefault.rawValue))"
            ),
        ]
    }

    /// The encryption fields; the key only as its recipient and where it is.
    private static func encryption(_ encryption: EncryptionSettings) -> [(String, String)] {
        [
            ("encryption.enabled", "\(encryption.enabled)"),
            (
                "encryption.recipients",
                encryption.recipients.isEmpty ? "-" : encryption.recipients.joined(separator: ",")
            ),
            ("encryption.passphrase_file", encryption.passphraseFile ?? "-"),
            ("encryption.recipient", encryption.recipient ?? "-"), ("encryption.key_file", encryption.keyFile ?? "-"),
            ("encryption.passphrase_from_environment", "\(encryption.passphraseFromEnvironment)"),
            ("encryption.mode", encryption.mode.rawValue),
        ]
    }

    /// The off-site fields; the secret only as whether one is set.
    private static func offsite(_ offsite: OffsiteSettings) -> [(String, String)] {
        [
            ("offsite.enabled", "\(offsite.enabled)"),
            ("offsite.endpoint", offsite.endpoint.isEmpty ? "-" : offsite.endpoint),
            ("offsite.region", offsite.region), ("offsite.bucket", offsite.bucket.isEmpty ? "-" : offsite.bucket),
            ("offsite.prefix", offsite.prefix.isEmpty ? "-" : offsite.prefix),
            ("offsite.path_style", "\(offsite.pathStyle)"),
            ("offsite.access_key_id", offsite.accessKeyID.isEmpty ? "-" : offsite.accessKeyID),
            ("offsite.secret_access_key_set", "\(offsite.secretAccessKeySet)"),
            ("offsite.credentials_from_environment", "\(offsite.credentialsFromEnvironment)"),
            ("offsite.ca_file", offsite.caFile ?? "-"), ("offsite.keep_last", "\(offsite.retention.keepLast)"),
            ("offsite.keep_days", "\(offsite.retention.keepDays)"),
            ("offsite.keep_daily", "\(offsite.retention.keepDaily)"),
            ("offsite.keep_weekly", "\(offsite.retention.keepWeekly)"),
            ("offsite.keep_monthly", "\(offsite.retention.keepMonthly)"),
        ]
    }
}

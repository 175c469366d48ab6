import GRDB

extension Catalog {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: backups and settings") { db in
            try db.create(table: "backup") { table in
                table.primaryKey("id", .text)
                table.column("filename", .text).notNull().unique()
                table.column("type", .text).notNull()
                table.column("status", .text).notNull()
                table.column("size_bytes", .integer)
                table.column("sha256", .text)
                table.column("created_at", .datetime).notNull()
                table.column("completed_at", .datetime)
                table.column("note", .text)
                table.column("pinned", .boolean).notNull().defaults(to: false)
                table.column("done_bytes", .integer).notNull().defaults(to: 0)
                table.column("total_bytes", .integer).notNull().defaults(to: 0)
                table.column("duration_ms", .integer)
                table.column("source_page_count", .integer)
                table.column("error", .text)
            }
            // Keyset pagination walks (created_at, id) newest first, optionally within a type or status.
            try db.create(index: "backup_by_time", on: "backup", columns: ["created_at", "id"])
            try db.create(index: "backup_by_type_time", on: "backup", columns: ["type", "created_at", "id"])
            try db.create(index: "backup_by_status_time", on: "backup", columns: ["status", "created_at", "id"])

            try db.create(table: "backup_settings") { table in
                table.primaryKey("id", .integer).check { $0 == 1 }
                table.column("enabled", .boolean).notNull()
                table.column("interval_hours", .integer).notNull()
                table.column("keep_last", .integer).notNull()
                table.column("keep_days", .integer).notNull()
                table.column("keep_daily", .integer).notNull()
                table.column("keep_weekly", .integer).notNull()
                table.column("keep_monthly", .integer).notNull()
                table.column("include_manual", .boolean).notNull()
                table.column("compression_level", .integer).notNull()
                table.column("webhook_url", .text)
                table.column("enabled_at", .datetime)
                table.column("updated_at", .datetime)
            }
            // The defaults as this version knew them (later migrations add their own columns).
            let defaults = BackupSettings()
            try db.execute(
                sql: """
                    INSERT INTO backup_settings (id, enabled, interval_hours, keep_last, keep_days, keep_daily,
                        keep_weekly, keep_monthly, include_manual, compression_level)
                    VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    defaults.enabled, defaults.intervalHours, defaults.retention.keepLast, defaults.retention.keepDays,
                    defaults.retention.keepDaily, defaults.retention.keepWeekly, defaults.retention.keepMonthly,
                    defaults.retention.includeManual, defaults.compressionLevel,
                ])
        }
        migrator.registerMigration("v2: verification outcome") { db in
            try db.alter(table: "backup") { table in
                table.add(column: "verified_at", .datetime)
                table.add(column: "verification_error", .text)
            }
        }
        migrator.registerMigration("v3: import size limit") { db in
            try db.alter(table: "backup_settings") { table in
                table.add(column: "max_import_bytes", .integer).notNull()
                    .defaults(to: BackupSettings.defaultMaxImportBytes)
            }
        }
        return migrator
    }
}

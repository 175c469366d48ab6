import Foundation
import GRDB

extension Catalog {
    /// - Parameter now: the migration's time; v4 clamps `recorded_at` of existing rows to it.
    static func migrator(now: Date) -> DatabaseMigrator {
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
            // A new catalog's defaults (the record type has since gained columns). The gzip level
            // was 6 until `make bench` showed it twice level 1's time for about 3% less: catalogs
            // made before keep the 6 they were given; new ones start at 1.
            try db.execute(
                sql: """
                    INSERT INTO backup_settings(id, enabled, interval_hours, keep_last, keep_days, keep_daily,
                        keep_weekly, keep_monthly, include_manual, compression_level)
                    VALUES (1, 0, 24, 10, 0, 0, 0, 0, 0, 1)
                    """)
        }
        migrator.registerMigration("v2: verification outcome") { db in
            try db.alter(table: "backup") { table in
                table.add(column: "verified_at", .datetime)
                table.add(column: "verification_error", .text)
            }
        }
        migrator.registerMigration("v3: generated notes") { db in
            try db.alter(table: "backup") { table in
                table.add(column: "note_kind", .text)
                table.add(column: "note_args", .text)
            }
            // Safety backups noted in English before notes had kinds: "before restoring ID".
            try db.execute(
                sql: """
                    UPDATE backup SET note_kind = 'pre_restore', note = NULL,
                      note_args = CASE WHEN note = 'before restoring a file' THEN '{}'
                                       ELSE json_object('backup_id', substr(note, 18)) END
                    WHERE type = 'pre-restore' AND note LIKE 'before restoring %'
                    """)
        }
        migrator.registerMigration("v4: recorded_at") { db in
            // When a record entered this catalog, by this machine's clock: retention orders by
            // it, never by a date read from a bundle. Existing rows only have their created_at,
            // which an imported bundle may have set in the future: clamped to now.
            try db.alter(table: "backup") { table in
                table.add(column: "recorded_at", .datetime)
            }
            try db.execute(
                sql: "UPDATE backup SET recorded_at = MIN(created_at, ?)", arguments: [now])
        }
        migrator.registerMigration("v5: restore lock timeout") { db in
            try db.alter(table: "backup_settings") { table in
                table.add(column: "restore_lock_timeout_seconds", .integer).notNull().defaults(to: 30)
            }
        }
        migrator.registerMigration("v6: import size limit") { db in
            try db.alter(table: "backup_settings") { table in
                table.add(column: "max_import_bytes", .integer).notNull()
                    .defaults(to: BackupSettings.defaultMaxImportBytes)
            }
        }
        migrator.registerMigration("v7: codec") { db in
            try db.alter(table: "backup_settings") { table in
                table.add(column: "codec", .text).notNull().defaults(to: CodecName.gzip.rawValue)
            }
        }
        migrator.registerMigration("v8: bundle store") { db in
            // Where each bundle lives, so no caller joins `backups/` with a file name; every
            // bundle so far is in the local store, under its file name.
            try db.alter(table: "backup") { table in
                table.add(column: "store", .text).notNull().defaults(to: LocalStore.storeName)
            }
        }
        migrator.registerMigration("v9: jobs in use and retention errors") { db in
            // The backups running jobs work on (see BackupUseRecord); gone with their backup.
            try db.create(table: "backup_use") { table in
                table.primaryKey("backup_id", .text).references("backup", onDelete: .cascade)
                table.column("job", .text).notNull()
                table.column("pid", .integer).notNull()
                table.column("since", .datetime).notNull()
            }
            // The last retention run that failed (see RetentionFailure); one row at most.
            try db.create(table: "retention_failure") { table in
                table.primaryKey("id", .integer).check { $0 == 1 }
                table.column("failed_at", .datetime).notNull()
                table.column("error", .text).notNull()
            }
        }
        migrator.registerMigration("v10_offsite_settings") { db in
            // The off-site settings, one JSON object (OffsiteSettings); `{}` reads as the
            // defaults: copies off. The secret access key is never in the catalog.
            try db.alter(table: "backup_settings") { table in
                table.add(column: "offsite", .jsonText).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration("v11_offsite_copies") { db in
            // The off-site copy of each backup (see OffsiteCopy); a record whose bundle is only in
            // the bucket has store = 's3'.
            try db.alter(table: "backup") { table in
                table.add(column: "offsite_status", .text).notNull().defaults(to: OffsiteStatus.none.rawValue)
                table.add(column: "offsite_key", .text)
                table.add(column: "offsite_uploaded_at", .datetime)
                table.add(column: "offsite_error", .text)
            }
        }
        migrator.registerMigration("v12_encryption_settings") { db in
            // The encryption settings, one JSON object (EncryptionSettings); `{}` reads as the
            // defaults: encryption off. No key or passphrase is ever in the catalog.
            try db.alter(table: "backup_settings") { table in
                table.add(column: "encryption", .jsonText).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration("v13_directories_and_scopes") { db in
            // The file directories beside the database (JSON arrays of absolute paths and of
            // exclude globs), the scope of a backup that names none (NULL: automatic) and
            // retention's per-scope switch.
            try db.alter(table: "backup_settings") { table in
                table.add(column: "directories", .jsonText).notNull().defaults(to: "[]")
                table.add(column: "exclude", .jsonText).notNull().defaults(to: "[]")
                table.add(column: "default_scope", .text)
                table.add(column: "retention_per_scope", .boolean).notNull().defaults(to: false)
            }
            // What each backup holds; every backup so far holds the database alone. The
            // warnings its directory sources gave (a file changed while read, one unreadable).
            try db.alter(table: "backup") { table in
                table.add(column: "scope", .text).notNull().defaults(to: BackupScope.database.rawValue)
                table.add(column: "source_warnings", .jsonText).notNull().defaults(to: "[]")
            }
            try db.create(index: "backup_by_scope_time", on: "backup", columns: ["scope", "created_at", "id"])
        }
        migrator.registerMigration("v14_alerts") { db in
            // The heartbeat URL (NULL: none) and the chat alerts, one JSON object (AlertSettings);
            // `{}` reads as the defaults: no Telegram chat. The bot token is never in the catalog.
            try db.alter(table: "backup_settings") { table in
                table.add(column: "heartbeat_url", .text)
                table.add(column: "alerts", .jsonText).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration("v15_repository") { db in
            // The incremental repository's packs and where each chunk lies: a cache of the pack
            // files' trailers (rows are inserted only once their pack is durable, and removed
            // before it is deleted), so that a backup looks its chunks up without reading packs.
            try db.create(table: "repository_pack") { table in
                table.primaryKey("name", .text)
                table.column("size_bytes", .integer).notNull()
                table.column("created_at", .datetime).notNull()
                // NULL: no off-site copy wanted or made yet; otherwise an OffsiteStatus.
                table.column("offsite_status", .text)
            }
            try db.create(table: "repository_chunk") { table in
                table.primaryKey("hash", .text)
                table.column("pack", .text).notNull().indexed()
                    .references("repository_pack", onDelete: .cascade)
                table.column("offset", .integer).notNull()
                table.column("length", .integer).notNull()
                table.column("raw_length", .integer).notNull()
            }
            // What each backup is: a bundle (every backup so far) or an incremental backup in the
            // repository, and the bytes it restores to (NULL until known).
            try db.alter(table: "backup") { table in
                table.add(column: "format", .text).notNull().defaults(to: "bundle")
                table.add(column: "logical_bytes", .integer)
            }
        }
        migrator.registerMigration("v16_format_setting") { db in
            // How new backups are stored: 'bundle' (every data directory so far) or 'incremental'.
            try db.alter(table: "backup_settings") { table in
                table.add(column: "format", .text).notNull().defaults(to: BackupFormat.bundle.rawValue)
            }
        }
        return migrator
    }
}

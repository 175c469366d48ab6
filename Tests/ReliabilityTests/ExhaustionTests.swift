import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// A small tmpfs mounted for one test (root only), unmounted when released.
final class SmallDisk {
    let directory = TemporaryDirectory("tmpfs")
    var url: URL { directory.url }

    /// nil (with the reason printed) when this process may not mount.
    static func mount(megabytes: Int) throws -> SmallDisk? {
        guard getuid() == 0 else {
            print("exhaustion suite: SKIPPED the disk-full tests: they mount a tmpfs and need root (uid \(getuid()))")
            return nil
        }
        let disk = SmallDisk()
        let result = try ChildProcess(executablePath: "/bin/mount").run(
            ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", disk.url.path])
        guard result.status == 0 else {
            print("exhaustion suite: SKIPPED the disk-full tests: mount failed: \(result.stderr)")
            return nil
        }
        return disk
    }

    /// Fills the disk to the last byte with a ballast file.
    func fill() -> URL {
        let ballast = url.appendingPathComponent("ballast")
        let fd = open(ballast.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xa5, count: 1 << 20)
        var size = chunk.count
        while size > 0 {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written < 0 { size /= 2 }
        }
        return ballast
    }

    deinit {
        _ = try? ChildProcess(executablePath: "/bin/umount").run(["-l", url.path])
    }
}

extension Reliability {
    @Suite("Resource exhaustion: a full disk, many connections, slow and vanishing clients", .serialized)
    struct ExhaustionTests {
        @Test("disk full mid-backup (CLI): a clear error, nothing lost, the next backup works once space is back")
        func diskFullDuringCLIBackup() async throws {
            guard let disk = try SmallDisk.mount(megabytes: 64) else { return }
            let data = disk.url.appendingPathComponent("data")
            let outside = try Harness.dataDirectory("disk-full-db", megabytes: 16)
            let database = outside.dataDirectory.database.path
            let before = try TestDB.fingerprint(database)
            let arguments = ["--data-dir", data.path, "--database", database]
            #expect(try Harness.backup.run(["settings", "set", "keep_last=5"] + arguments).status == 0)
            let catalog = try Catalog(dataDirectory: DataDirectory(root: data.path, database: database))

            let running = try Harness.backup.start(["create"] + arguments)
            #expect(
                try waitUntil {
                    try catalog.page(BackupQuery(limit: 1)).items.first.map {
                        $0.status == .running && ($0.progress?.doneBytes ?? 0) > 0
                    }
                        ?? false
                })
            running.signal(SIGSTOP)
            let ballast = disk.fill()
            running.signal(SIGCONT)
            let result = running.wait()
            #expect(result.status == 1)
            #expect(result.stderr.contains("not enough free space"), "\(result.stderr)")
            #expect(!result.stderr.contains("0 B needed"), "the message gives real figures: \(result.stderr)")
            let failed = try #require(try catalog.page(BackupQuery(limit: 1)).items.first)
            #expect(failed.status == .failed, "the record says what happened: \(failed.status)")
            #expect(failed.error?.contains("free space") == true, "\(failed.error ?? "")")
            #expect(try TestDB.fingerprint(database) == before)
            #expect(try TestDB.strings(database, "PRAGMA integrity_check") == ["ok"])
            let leftovers = try FileManager.default.contentsOfDirectory(
                atPath: data.appendingPathComponent("backups").path)
            #expect(!leftovers.contains { $0.hasPrefix("backup-") }, "\(leftovers)")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("backups/.tmp").path)
                    .isEmpty)

            // While the disk is full, a new backup is refused before it writes anything.
            let refused = try Harness.backup.run(["create"] + arguments)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("not enough free space"), "\(refused.stderr)")

            try FileManager.default.removeItem(at: ballast)
            let next = try Harness.backup.run(["create", "--json"] + arguments)
            #expect(next.status == 0, "\(next.stderr)")
            #expect(try Harness.backup.run(["verify", "--all"] + arguments).status == 0)
            #expect(try catalog.records(status: .running).isEmpty)
            Intensity.figure("exhaustion suite: disk full mid-backup (CLI) failed cleanly; the next backup verified")
        }

        @Test("disk full mid-backup (server): 507 or a failed record, the server keeps serving, the next backup works")
        func diskFullDuringServerBackup() async throws {
            guard let disk = try SmallDisk.mount(megabytes: 64) else { return }
            let data = disk.url.appendingPathComponent("data")
            let outside = try Harness.dataDirectory("disk-full-server-db", megabytes: 16)
            let database = outside.dataDirectory.database.path
            let server = try LiveServer(
                dataDirectory: data.path, token: Harness.token, extraArguments: ["--database", database])
            try await server.waitUntilReady()
            defer { _ = server.terminate() }
            let catalog = try Catalog(dataDirectory: DataDirectory(root: data.path, database: database))

            let ballast = disk.fill()
            let (body, refused) = try await server.request("POST", "/api/backups")
            #expect(refused.statusCode == 507, "\(String(decoding: body, as: UTF8.self))")
            #expect(String(decoding: body, as: UTF8.self).contains("insufficient_space"))
            try FileManager.default.removeItem(at: ballast)

            // Full in the middle: the job fails, its record says why, and nothing stays running.
            let (createdBody, created) = try await server.request("POST", "/api/backups")
            #expect(created.statusCode == 202)
            let pending = try server.decode(BackupInfo.self, createdBody)
            _ = waitUntil { (try? catalog.record(id: pending.id).status == .running) ?? false }
            let secondBallast = disk.fill()
            let ended = try await server.waitForCompletion(id: pending.id)
            if ended.status == .failed {
                #expect(ended.error?.contains("free space") == true, "\(ended.error ?? "")")
            } else {
                print(
                    "exhaustion suite: the server backup finished before the disk filled; only the refusal was tested")
            }
            try FileManager.default.removeItem(at: secondBallast)
            let next = try await server.backupAndWait()
            #expect(next.status == .completed)
            #expect(try catalog.records(status: .running).isEmpty)
            Intensity.figure(
                "exhaustion suite: disk full (server): 507 before, \(ended.status.rawValue) during; the next backup completed"
            )
        }

        @Test("idle and half-sent connections, stalled and vanishing downloads never stall the job runner")
        func connectionsAndSlowClients() async throws {
            let directory = try Harness.dataDirectory("connections", megabytes: 24)
            let info = try Harness.createBackup(directory)
            let server = try await Harness.server(directory)
            defer { _ = server.terminate() }
            let descriptors = {
                (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.process.pid)/fd").count) ?? 0
            }
            let baseline = descriptors()
            let idleCount = Intensity.count(short: 300, long: 2000)
            var held: [RawConnection] = []
            for index in 0..<idleCount {
                let connection = try RawConnection(port: server.port)
                if index.isMultiple(of: 3) { connection.send("GET /api/backups HTTP/1.1\r\nHost: x\r\nAuthor") }
                held.append(connection)
            }
            // Downloads that read nothing (the server must wait on them) and downloads cut off midway.
            let download =
                "GET /api/backups/\(info.id)/download HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.token)\r\n\r\n"
            for _ in 0..<20 {
                let stalled = try RawConnection(port: server.port, receiveBuffer: 4096)
                stalled.send(download)
                held.append(stalled)
            }
            for _ in 0..<20 {
                let vanishing = try RawConnection(port: server.port)
                vanishing.send(download)
                _ = vanishing.receive(maximum: 16 * 1024, timeout: 10)
                vanishing.close()
            }
            // The job runner and the API carry on.
            let started = Date()
            let made = try await server.backupAndWait()
            #expect(made.status == .completed)
            let (_, status) = try await server.request("GET", "/api/status")
            #expect(status.statusCode == 200)
            let (whole, response) = try await server.request("GET", "/api/backups/\(made.id)/download")
            #expect(response.statusCode == 200)
            #expect(whole.count == Int(made.sizeBytes ?? 0))
            let elapsed = Date().timeIntervalSince(started)

            // Every connection closed by the clients is released by the server: no descriptor leaks.
            for connection in held { connection.close() }
            #expect(
                waitUntil(timeout: 60) { descriptors() <= baseline + 8 },
                "descriptors \(descriptors()), baseline \(baseline)")
            Intensity.figure(
                "exhaustion suite: \(idleCount) idle or half-sent connections, 20 stalled and 20 vanishing downloads; "
                    + "a backup and a download meanwhile in \(String(format: "%.1f", elapsed)) s; descriptors back to baseline"
            )
        }
    }
}

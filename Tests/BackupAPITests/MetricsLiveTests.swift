import BackupCore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `GET /metrics` of the real binary, read as a new operator's Prometheus would: through the
/// official Python client's parser (`prometheus-client` in `.venv`).
@Suite("GET /metrics on the real backup-api binary", .serialized)
struct MetricsLiveTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let python = checkout.appendingPathComponent(".venv/bin/python").path
    static let checker = checkout.appendingPathComponent("Tests/monitoring/prometheus_check.py").path

    /// What the parser read: each family's type, and every sample.
    struct Parsed: Decodable {
        struct Sample: Decodable {
            var name: String
            var labels: [String: String]
            /// nil for +Inf.
            var value: Double?

            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                name = try container.decode(String.self)
                labels = try container.decode([String: String].self)
                value = try container.decodeIfPresent(Double.self)
            }
        }

        var families: [String: String]
        var samples: [Sample]

        func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
            samples.filter { sample in
                sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
        }

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples(name, labels).first?.value
        }
    }

    /// Scrapes with the token; the page and its Content-Type.
    static func scrape(_ server: LiveServer) async throws -> (String, String?) {
        let (body, response) = try await server.request("GET", "/metrics")
        #expect(response.statusCode == 200)
        return (String(decoding: body, as: UTF8.self), response.value(forHTTPHeaderField: "Content-Type"))
    }

    static func parse(_ page: String) async throws -> Parsed {
        let result = try await ChildProcess(executablePath: python).runOffPool([checker, "parse"], input: page)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Parsed.self, from: Data(result.stdout.utf8))
    }

    static func server(_ name: String) async throws -> (TemporaryDirectory, LiveServer) {
        let directory = TemporaryDirectory(name)
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        return (directory, server)
    }

    @Test(
        "a backup shows as a status-labelled counter, a duration histogram with buckets and a last-success time within a minute; the catalog, job and process gauges are there"
    )
    func backupShowsInTheScrape() async throws {
        let (directory, server) = try await Self.server("metrics-live")
        defer { _ = server.terminate() }

        let before = try await Self.parse(try await Self.scrape(server).0)
        #expect(before.families["backup_backups"] == "counter")
        #expect(before.value("backup_backups_total", ["status": "succeeded", "type": "manual"]) == 0)
        #expect(before.value("backup_last_success_timestamp_seconds") == 0)
        #expect(before.samples("backup_duration_seconds_count").isEmpty)

        let info = try await server.backupAndWait()
        #expect(info.status == .completed)
        let completedAt = try #require(info.completedAt)
        let (page, contentType) = try await Self.scrape(server)
        #expect(contentType == "text/plain; version=0.0.4; charset=utf-8")
        let parsed = try await Self.parse(page)

        let succeeded = ["type": "manual", "scope": "database", "status": "succeeded"]
        #expect(parsed.value("backup_backups_total", succeeded) == 1)
        #expect(parsed.value("backup_backups_total", ["type": "manual", "scope": "database", "status": "failed"]) == 0)
        let lastSuccess = try #require(parsed.value("backup_last_success_timestamp_seconds"))
        #expect(abs(lastSuccess - completedAt.timeIntervalSince1970) < 60)
        #expect(abs(lastSuccess - Date().timeIntervalSince1970) < 60)
        #expect(parsed.value("backup_last_failure_timestamp_seconds") == 0)

        #expect(parsed.families["backup_duration_seconds"] == "histogram")
        let buckets = parsed.samples("backup_duration_seconds_bucket", ["type": "manual", "scope": "database"])
        #expect(buckets.count == BackupMetrics.durationBuckets.count + 1)
        #expect(buckets.first { $0.labels["le"] == "+Inf" }?.value == 1)
        #expect(parsed.value("backup_duration_seconds_count", ["type": "manual", "scope": "database"]) == 1)
        #expect(parsed.families["backup_size_bytes"] == "histogram")
        #expect(parsed.value("backup_size_bytes_sum", ["scope": "database"]) == Double(info.sizeBytes ?? -1))
        #expect(parsed.value("backup_written_bytes_total") == Double(info.sizeBytes ?? -1))

        #expect(parsed.value("backup_catalog_records", ["status": "completed"]) == 1)
        #expect(parsed.value("backup_offsite_lag_seconds") == 0)
        #expect(parsed.value("backup_job_running", ["kind": "backup"]) == 0)
        #expect(parsed.value("backup_next_run_timestamp_seconds") == 0)
        let started = try #require(parsed.value("process_start_time_seconds"))
        #expect(abs(started - Date().timeIntervalSince1970) < 600)
        #expect((parsed.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((parsed.value("process_open_fds") ?? 0) > 3)
        #expect(parsed.families["process_cpu_seconds"] == "counter")

        // A verification and a failing backup count too.
        let (_, verify) = try await server.request("POST", "/api/backups/\(info.id)/verify")
        #expect(verify.statusCode == 202)
        _ = try await server.waitForVerification(id: info.id)
        _ = try await server.waitForCompletion(id: info.id)
        // A database that is not SQLite any more: the backup job fails.
        try Data(repeating: 0x42, count: 64 * 1024).write(to: directory.dataDirectory.database)
        let failed = try await server.backupAndWait()
        #expect(failed.status == .failed)
        let after = try await Self.parse(try await Self.scrape(server).0)
        #expect(after.value("backup_verifications_total", ["result": "verified"]) == 1)
        #expect(after.value("backup_backups_total", ["type": "manual", "scope": "database", "status": "failed"]) == 1)
        let lastFailure = try #require(after.value("backup_last_failure_timestamp_seconds"))
        #expect(abs(lastFailure - Date().timeIntervalSince1970) < 60)
    }

    @Test("a backup the CLI made before the server started shows in its catalog gauges; its counters start at 0")
    func cliBackupShowsAfterAStart() async throws {
        let directory = TemporaryDirectory("metrics-cli")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 1)
        let created = try await ChildProcess(product: "backup").runOffPool([
            "create", "--data-dir", directory.path, "--json",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try JSONDecoder.backupManager().decode(BackupInfo.self, from: Data(created.stdout.utf8))
        let completedAt = try #require(info.completedAt)
        let server = try LiveServer(dataDirectory: directory.path)
        defer { _ = server.terminate() }
        try await server.waitUntilReady()

        let parsed = try await Self.parse(try await Self.scrape(server).0)
        let lastSuccess = try #require(parsed.value("backup_last_success_timestamp_seconds"))
        #expect(abs(lastSuccess - completedAt.timeIntervalSince1970) < 0.01)
        #expect(parsed.value("backup_catalog_records", ["status": "completed"]) == 1)
        #expect(
            parsed.value("backup_backups_total", ["type": "manual", "scope": "database", "status": "succeeded"]) == 0)
    }

    @Test("401 without the token, with a wrong one, with the session cookie alone, and with the token in the query")
    func refusedWithoutTheBearerToken() async throws {
        let (directory, server) = try await Self.server("metrics-auth")
        defer { withExtendedLifetime(directory) {} }
        defer { _ = server.terminate() }

        let (_, bare) = try await server.request("GET", "/metrics", authorized: false)
        #expect(bare.statusCode == 401)
        let (_, wrong) = try await server.request(
            "GET", "/metrics", headers: ["Authorization": "Bearer wrong-token-0123456789"], authorized: false)
        #expect(wrong.statusCode == 401)
        let (_, query) = try await server.request("GET", "/metrics?token=\(server.token)", authorized: false)
        #expect(query.statusCode == 401)

        let (_, signedIn) = try await server.request(
            "POST", "/api/session", body: Data(#"{"token": "\#(server.token)"}"#.utf8),
            headers: ["Content-Type": "application/json"], authorized: false)
        #expect(signedIn.statusCode == 200)
        let setCookie = try #require(signedIn.value(forHTTPHeaderField: "Set-Cookie"))
        let cookie = String(setCookie.split(separator: ";")[0])
        // The cookie works for the API, and not for /metrics.
        let (_, api) = try await server.request("GET", "/api/status", headers: ["Cookie": cookie], authorized: false)
        #expect(api.statusCode == 200)
        let (body, withCookie) = try await server.request(
            "GET", "/metrics", headers: ["Cookie": cookie], authorized: false)
        #expect(withCookie.statusCode == 401)
        #expect(!String(decoding: body, as: UTF8.self).contains("backup_backups_total"))
    }

    @Test(
        "docs/grafana-dashboard.json and docs/prometheus-rules.yml parse and name only metrics a real scrape shows; promtool accepts the rules when installed"
    )
    func dashboardAndRulesUseExposedNames() async throws {
        let (directory, server) = try await Self.server("metrics-docs")
        defer { _ = server.terminate() }
        // One backup, so the histograms are in the page too.
        #expect(try await server.backupAndWait().status == .completed)
        let exposition = directory.url.appendingPathComponent("exposition.txt")
        try Data(try await Self.scrape(server).0.utf8).write(to: exposition)

        let docs = Self.checkout.appendingPathComponent("docs")
        let dashboard = docs.appendingPathComponent("grafana-dashboard.json").path
        let rules = docs.appendingPathComponent("prometheus-rules.yml").path
        let checked = try await ChildProcess(executablePath: Self.python).runOffPool([
            Self.checker, "docs", exposition.path, dashboard, rules,
        ])
        #expect(checked.status == 0, "\(checked.stderr)")
        let used = try JSONDecoder().decode([String].self, from: Data(checked.stdout.utf8))
        for name in [
            "backup_last_success_timestamp_seconds", "backup_last_failure_timestamp_seconds",
            "backup_offsite_lag_seconds", "backup_backups_total", "backup_duration_seconds_bucket",
        ] {
            #expect(used.contains(name), "\(name) is used by neither file")
        }

        let promtool = "/usr/bin/promtool"
        if FileManager.default.isExecutableFile(atPath: promtool) {
            let result = try await ChildProcess(executablePath: promtool).runOffPool(["check", "rules", rules])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            // Prometheus' own linter on the page: names, types, help texts.
            let page = try String(contentsOf: exposition, encoding: .utf8)
            let linted = try await ChildProcess(executablePath: promtool).runOffPool(["check", "metrics"], input: page)
            #expect(linted.status == 0, "\(linted.stdout)\(linted.stderr)")
        } else {
            print(
                "promtool not installed (Debian's prometheus package): the rules were parsed and checked by name only")
        }
    }
}

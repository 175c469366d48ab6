import Foundation
import TestSupport
import Testing

/// `docs/systemd/`: the units an operator installs, read as systemd reads them.
@Suite("docs/systemd units: the keys that matter, options the binaries accept, systemd-analyze verify")
struct SystemdUnitsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let folder = repository.appendingPathComponent("docs/systemd")
    static let units = ["backup-api.service", "backup.service", "backup.timer"]

    /// A unit file as `[section: [key: [values]]]` (a key may repeat; comments and blank lines
    /// skipped).
    static func parse(_ name: String) throws -> [String: [String: [String]]] {
        let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        var sections: [String: [String: [String]]] = [:]
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            #expect(parts.count == 2 && !section.isEmpty, "\(name): \(line)")
            guard parts.count == 2 else { continue }
            sections[section, default: [:]][parts[0], default: []].append(parts[1])
        }
        return sections
    }

    static var systemdAnalyze: URL? {
        ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test(
        "the server unit: exec, restart on failure (and on 75), secrets from an environment file, hardened, writes only its data directory"
    )
    func serverUnit() throws {
        let unit = try Self.parse("backup-api.service")
        let service = try #require(unit["Service"])
        #expect(service["Type"] == ["exec"] && service["User"] == ["backup"])
        #expect(service["Restart"] == ["on-failure"] && service["RestartForceExitStatus"] == ["75"])
        #expect(service["EnvironmentFile"]?.first?.hasSuffix("/etc/backup-manager/backup-manager.env") == true)
        for (key, value) in [
            ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
            ("ProtectHome", "read-only"), ("ReadWritePaths", "/var/lib/backup-manager"), ("UMask", "0077"),
        ] {
            #expect(service[key] == [value], "\(key)")
        }
        let exec = try #require(service["ExecStart"]?.first)
        #expect(exec.hasPrefix("/usr/local/bin/backup-api --data-dir /var/lib/backup-manager"))
        #expect(unit["Install"]?["WantedBy"] == ["multi-user.target"])
    }

    @Test("the CLI units: a oneshot backup create, a daily persistent timer with a random delay")
    func timerUnits() throws {
        let service = try #require(try Self.parse("backup.service")["Service"])
        #expect(service["Type"] == ["oneshot"] && service["User"] == ["backup"])
        #expect(service["ExecStart"]?.first?.hasPrefix("/usr/local/bin/backup create ") == true)
        #expect(service["ProtectSystem"] == ["strict"] && service["NoNewPrivileges"] == ["yes"])
        let timer = try #require(try Self.parse("backup.timer")["Timer"])
        #expect(timer["OnCalendar"]?.count == 1 && timer["Persistent"] == ["true"])
        #expect(timer["RandomizedDelaySec"] != nil)
    }

    @Test("every option of an ExecStart line is one the real binary lists in its help")
    func execStartOptions() async throws {
        for (unit, product, helpArguments) in [
            ("backup-api.service", "backup-api", ["--help"]), ("backup.service", "backup", ["create", "--help"]),
        ] {
            let exec = try #require(try Self.parse(unit)["Service"]?["ExecStart"]?.first)
            let help = try await ChildProcess(product: product).runOffPool(helpArguments)
            #expect(help.status == 0)
            for option in exec.split(separator: " ").filter({ $0.hasPrefix("--") }) {
                #expect(help.stdout.contains(String(option)), "\(unit): \(option) is not an option of \(product)")
            }
        }
    }

    @Test(
        "systemd-analyze verify accepts the units (ExecStart pointed at the built binaries, the man page on MANPATH), without a warning",
        .enabled(
            if: SystemdUnitsTests.systemdAnalyze != nil,
            "systemd-analyze is not installed (Debian's systemd package; make setup installs it)"))
    func analyzeVerify() async throws {
        let analyze = try #require(Self.systemdAnalyze)
        let directory = TemporaryDirectory("systemd-units")
        let manual = directory.url.appendingPathComponent("man/man1")
        try FileManager.default.createDirectory(at: manual, withIntermediateDirectories: true)
        for page in ["backup.1", "backup-api.1"] {
            try FileManager.default.copyItem(
                at: Self.repository.appendingPathComponent("docs/man/\(page)"),
                to: manual.appendingPathComponent(page))
        }
        for unit in Self.units {
            var text = try String(contentsOf: Self.folder.appendingPathComponent(unit), encoding: .utf8)
            for product in ["backup-api", "backup"] {
                text = text.replacingOccurrences(
                    of: "/usr/local/bin/\(product) ", with: try ChildProcess(product: product).executable.path + " ")
            }
            try text.write(to: directory.url.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        }
        // Documentation=man:backup(1) is checked with man(1) when it is installed (man-db).
        let man = FileManager.default.isExecutableFile(atPath: "/usr/bin/man")
        let result = try await ChildProcess(executablePath: analyze.path).runOffPool(
            ["verify"] + (man ? [] : ["--man=no"]) + Self.units.map { directory.url.appendingPathComponent($0).path },
            environment: ["MANPATH": directory.url.appendingPathComponent("man").path])
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)")
        #expect(output.isEmpty, "systemd-analyze warned: \(output)")
    }
}

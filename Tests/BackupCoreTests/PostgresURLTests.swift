import Foundation
import Testing

@testable import BackupCore

@Suite("PostgresURL: libpq's URI form parsed, the password held but never shown")
struct PostgresURLTests {
    @Test("user, password, host, port, database and parameters are read; redacted drops the password only")
    func fullURL() throws {
        let url = try PostgresURL(parsing: "postgresql://app:secret@db.example.org:6543/ledger?sslmode=require")
        #expect(url.user == "app" && url.host == "db.example.org" && url.port == 6543)
        #expect(url.database == "ledger" && url.hasPassword && url.password == "secret")
        #expect(url.parameters.map(\.name) == ["sslmode"] && url.parameters.map(\.value) == ["require"])
        #expect(url.redacted == "postgresql://app@db.example.org:6543/ledger?sslmode=require")
        #expect("\(url)" == url.redacted && String(reflecting: url) == url.redacted)
        #expect(!"\(DatabaseLocation.postgres(url))".contains("secret"))
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!dumped.contains("secret"), "\(dumped)")
    }

    @Test(
        "a password holding @, : and %40 is split at the last @ and decoded; no form of it stays in redacted",
        arguments: [
            ("postgresql://app:p@ss@localhost/app", "p@ss"),
            ("postgresql://app:pa:ss@localhost/app", "pa:ss"),
            ("postgresql://app:p%40ss%3Aw%2Frd@localhost/app", "p@ss:w/rd"),
            ("postgres://app:100%25@localhost/app", "100%"),
        ])
    func passwordForms(text: String, password: String) throws {
        let url = try PostgresURL(parsing: text)
        #expect(url.password == password && url.user == "app" && url.host == "localhost" && url.database == "app")
        #expect(!url.redacted.contains(":p") && !url.redacted.contains("ss") && !url.redacted.contains("100"))
        #expect(url.redacted.hasSuffix("://app@localhost/app"))
        #expect(url.childEnvironment(base: ["PATH": "/bin"]) == ["PATH": "/bin", "PGPASSWORD": password])
    }

    @Test("a password given as the password parameter is taken out of the URL the same way")
    func passwordParameter() throws {
        let url = try PostgresURL(parsing: "postgresql://app@127.0.0.1/app?password=hush&connect_timeout=5")
        #expect(url.password == "hush" && url.redacted == "postgresql://app@127.0.0.1/app?connect_timeout=5")
    }

    @Test("without a password: nothing is added to the child's environment, libpq reads PGPASSWORD or .pgpass")
    func noPassword() throws {
        let url = try PostgresURL(parsing: "postgresql://app@127.0.0.1:5432/app")
        #expect(!url.hasPassword && url.redacted == "postgresql://app@127.0.0.1:5432/app")
        #expect(url.childEnvironment(base: ["PGPASSWORD": "from-env"]) == ["PGPASSWORD": "from-env"])
        let empty = try PostgresURL(parsing: "postgresql://app:@127.0.0.1/app")
        #expect(!empty.hasPassword)
    }

    @Test("an IPv6 host in brackets, a percent-encoded socket directory, defaults for what is left out")
    func hosts() throws {
        let six = try PostgresURL(parsing: "postgresql://app:x@[::1]:5433/app")
        #expect(six.host == "::1" && six.port == 5433 && six.redacted == "postgresql://app@[::1]:5433/app")
        let socket = try PostgresURL(parsing: "postgresql://%2Fvar%2Frun%2Fpostgresql/app")
        #expect(socket.host == "/var/run/postgresql" && socket.user == nil && socket.port == nil)
        #expect(socket.redacted == "postgresql://%2Fvar%2Frun%2Fpostgresql/app")
        let bare = try PostgresURL(parsing: "POSTGRESQL://ops@")
        #expect(bare.database == "ops" && bare.host == nil && bare.redacted == "postgresql://ops@")
        let named = try PostgresURL(parsing: "postgresql://ops@h/ledger").with(database: "rehearsal")
        #expect(named.redacted == "postgresql://ops@h/rehearsal")
    }

    @Test(
        "what cannot be parsed is refused on the database field, and the reason never holds the password",
        arguments: [
            "postgresql://app:hunter2@host:99999/app", "postgresql://app:hunter2@[::1/app",
            "postgresql://app:hunter2@h1,h2/app", "postgresql://app:hunter2@host/a%ZZb",
            "postgresql://app:hunter2@host:port/app", "postgresql://app:hunter2@host/app?sslmode",
            "postgresql://app:hunter2@host/app#frag",
        ])
    func invalid(text: String) throws {
        let error = try #require(throws: BackupError.self) { try PostgresURL(parsing: text) }
        guard case .invalidInput(let fields) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(fields.keys.sorted() == ["database"])
        #expect(!error.message.contains("hunter2"), "\(error.message)")
    }

    @Test("DatabaseLocation: a URL in any case of its scheme, a path against cwd, another scheme refused")
    func locations() throws {
        let cwd = URL(fileURLWithPath: "/srv/app", isDirectory: true)
        let url = try DatabaseLocation.parse("Postgres://app@h/app", cwd: cwd)
        #expect(url.kind == .postgresql && url.displayed == "postgres://app@h/app")
        let path = try DatabaseLocation.parse("data/app.sqlite", cwd: cwd)
        #expect(path == .sqlite(URL(fileURLWithPath: "/srv/app/data/app.sqlite")) && path.kind == .sqlite)
        #expect(path.displayed == "/srv/app/data/app.sqlite")
        #expect(throws: BackupError.self) { try DatabaseLocation.parse("mysql://app@h/app", cwd: cwd) }
        let directory = try DataDirectory(root: "/srv/data", parsingDatabase: "postgresql://app:pw@h/app")
        #expect(directory.location.kind == .postgresql && directory.database.path == "/srv/data/app.sqlite")
        #expect(try DataDirectory(root: "/srv/data", parsingDatabase: nil).location == .sqlite(directory.database))
    }
}

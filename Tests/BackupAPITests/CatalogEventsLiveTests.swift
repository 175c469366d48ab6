import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("Catalog changes by other processes on /api/events")
struct CatalogEventsLiveTests {
    @Test("a backup the CLI creates, then deletes, while the server runs reaches /api/events as catalog events")
    func cliChangesReachTheEventStream() async throws {
        let directory = TemporaryDirectory("live-catalog-events")
        try SampleDatabase.create(at: directory.dataDirectory.database, megabytes: 2)
        let server = try LiveServer(dataDirectory: directory.path)
        try await server.waitUntilReady()
        let output = directory.url.appendingPathComponent("events.txt")
        let events = try ChildProcess(executablePath: "/usr/bin/curl").start([
            "-sN", "-o", output.path, "-H", "Authorization: Bearer \(server.token)", "\(server.baseURL)/api/events",
        ])
        let stream = { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        let catalogEvents = { stream().components(separatedBy: "event: catalog\n").dropFirst() }
        // The current state first: a status and a catalog event.
        #expect(waitUntil { catalogEvents().count == 1 })
        #expect(stream().hasPrefix("event: status\n"))
        #expect(catalogEvents().first?.hasPrefix("data: {\"count\":0,\"foreign_job\":null}") == true)

        let backup = try ChildProcess(product: "backup")
        let created = try backup.run(["create", "--json", "--data-dir", directory.path])
        #expect(created.status == 0, "\(created.stderr)")
        let info = try server.decode(BackupInfo.self, Data(created.stdout.utf8))
        #expect(waitUntil { catalogEvents().contains { $0.hasPrefix("data: {\"count\":1,") } })
        // The server's list agrees with what the event announced.
        let list = String(decoding: try await server.request("GET", "/api/backups").0, as: UTF8.self)
        #expect(list.contains(info.id))

        let deleted = try backup.run(["delete", info.id, "--yes", "--data-dir", directory.path])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(waitUntil { catalogEvents().last?.hasPrefix("data: {\"count\":0,\"foreign_job\":null}") == true })

        #expect(server.terminate().status == 0)
        _ = events.wait()
    }
}

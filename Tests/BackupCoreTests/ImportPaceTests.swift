import BackupCore
import Foundation
import Testing

@Suite("ImportPace: the slowest upload accepted")
struct ImportPaceTests {
    let pace = ImportPace(idleTimeout: 30, minimumRate: 16 * 1024, gracePeriod: 60)
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a gap longer than the idle limit ends it, a shorter one does not")
    func idle() {
        let last = start.addingTimeInterval(5)
        #expect(
            pace.violation(started: start, lastArrival: last, bytes: 10 << 20, now: last.addingTimeInterval(29)) == nil)
        #expect(
            pace.violation(started: start, lastArrival: last, bytes: 10 << 20, now: last.addingTimeInterval(30)) != nil)
        #expect(pace.nextCheck(started: start, lastArrival: last, bytes: 10 << 20) == last.addingTimeInterval(30))
    }

    @Test("one byte every 29 s never trips the idle limit but falls under the rate after the grace period")
    func trickle() {
        var bytes: Int64 = 0
        var now = start
        var cutAt: Date?
        while cutAt == nil, now < start.addingTimeInterval(3600) {
            bytes += 1
            let last = now
            now = now.addingTimeInterval(29)
            if pace.violation(started: start, lastArrival: last, bytes: bytes, now: now) != nil { cutAt = now }
        }
        let cut = try? #require(cutAt)
        #expect(cut.map { $0.timeIntervalSince(start) } == 87, "cut at the first check after 60 s")
        // A fast upload is not held to the rate before it has had time to make it.
        #expect(pace.violation(started: start, lastArrival: start, bytes: 0, now: start.addingTimeInterval(20)) == nil)
        #expect(pace.nextCheck(started: start, lastArrival: start, bytes: 0) == start.addingTimeInterval(30))
        #expect(
            pace.nextCheck(started: start, lastArrival: start.addingTimeInterval(50), bytes: 0)
                == start.addingTimeInterval(60))
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// This process's figures as Prometheus' client libraries export them (`process_*`), read from
/// `/proc/self` (swift-prometheus has none on Linux). Elsewhere, or when `/proc` cannot be read,
/// ``read()`` gives nil and the scrape leaves them out.
struct ProcessFigures: Equatable, Sendable {
    /// User and system CPU time, in seconds.
    var cpuSeconds: Double
    var residentMemoryBytes: Double
    var virtualMemoryBytes: Double
    /// When the process started, in Unix seconds.
    var startTimeSeconds: Double
    var openFileDescriptors: Double
    /// The soft limit on open descriptors (`RLIMIT_NOFILE`); nil when unlimited.
    var maxFileDescriptors: Double?

    /// Reads `/proc/self/stat`, `/proc/stat` (the boot time), `/proc/self/fd` and the descriptor
    /// limit.
    static func read() -> ProcessFigures? {
        #if os(Linux)
            guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
                let bootTime = bootTimeSeconds()
            else { return nil }
            // The command name (field 2) may hold spaces and parentheses: fields count after its ')'.
            guard let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state): field N is fields[N - 3].
            func field(_ number: Int) -> Double? {
                fields.count > number - 3 ? Double(fields[number - 3]) : nil
            }
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
            guard ticks > 0, let utime = field(14), let stime = field(15), let start = field(22),
                let vsize = field(23), let rss = field(24)
            else { return nil }
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
            var limit = rlimit()
            let maxDescriptors: Double? =
                getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 && limit.rlim_cur != rlim_t.max
                ? Double(limit.rlim_cur) : nil
            return ProcessFigures(
                cpuSeconds: (utime + stime) / ticks, residentMemoryBytes: rss * pageSize, virtualMemoryBytes: vsize,
                startTimeSeconds: bootTime + start / ticks,
                openFileDescriptors: Double(descriptors), maxFileDescriptors: maxDescriptors)
        #else
            return nil
        #endif
    }

    #if os(Linux)
        private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

        /// `btime` of `/proc/stat`: when the machine booted, in Unix seconds.
        private static func bootTimeSeconds() -> Double? {
            guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
                return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
            }
            return nil
        }
    #endif
}

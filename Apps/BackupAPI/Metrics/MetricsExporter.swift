import BackupCore
import Foundation
import Prometheus
import Synchronization

/// The server's Prometheus exposition (`GET /metrics`) over one registry: the counters and
/// histograms the core records through ``BackupMetrics``, and gauges set at every scrape from the
/// catalog, the job runner and `/proc/self`.
///
/// Each app has its own registry (tests build several in one process); the server's main also
/// bootstraps swift-metrics with it, so anything else recording through the global factory lands
/// in the same page.
final class MetricsExporter: Sendable {
    /// The gauges' names, beside the core's (``BackupMetrics/Name``).
    enum Name {
        static let lastSuccess = "backup_last_success_timestamp_seconds"
        static let lastFailure = "backup_last_failure_timestamp_seconds"
        static let catalogRecords = "backup_catalog_records"
        static let offsiteLag = "backup_offsite_lag_seconds"
        static let jobRunning = "backup_job_running"
        static let nextRun = "backup_next_run_timestamp_seconds"
        static let interval = "backup_schedule_interval_seconds"
        static let cpu = "process_cpu_seconds_total"
        static let resident = "process_resident_memory_bytes"
        static let virtual = "process_virtual_memory_bytes"
        static let startTime = "process_start_time_seconds"
        static let openFDs = "process_open_fds"
        static let maxFDs = "process_max_fds"
    }

    /// The exposition's media type (Prometheus text format 0.0.4).
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let registry: PrometheusCollectorRegistry
    /// Where the core counts (the service's ``BackupService/metrics``).
    let backupMetrics: BackupMetrics

    private let lastSuccess: Gauge
    private let lastFailure: Gauge
    private let records: [BackupStatus: Gauge]
    private let offsiteLag: Gauge
    private let jobRunning: [JobKind: Gauge]
    private let nextRun: Gauge
    private let interval: Gauge
    private let cpu: Counter
    private let resident: Gauge
    private let virtual: Gauge
    private let startTime: Gauge
    private let openFDs: Gauge
    private let maxFDs: Gauge
    /// One scrape at a time sets the gauges and renders them; the CPU counter's last reading.
    private let scrape = Mutex<Double>(0)

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        backupMetrics = BackupMetrics(factory: PrometheusMetricsFactory.backupManager(registry: registry))
        backupMetrics.registerCounters()
        lastSuccess = registry.makeGauge(
            name: Name.lastSuccess, labels: [],
            help: "When the newest successful backup completed, in Unix seconds (0: none yet)")
        lastFailure = registry.makeGauge(
            name: Name.lastFailure, labels: [], help: "When the newest failed backup ended, in Unix seconds (0: none)")
        records = Dictionary(
            uniqueKeysWithValues: BackupStatus.allCases.map { status in
                (
                    status,
                    registry.makeGauge(
                        name: Name.catalogRecords, labels: [("status", status.rawValue)],
                        help: "Backup records in the catalog by status")
                )
            })
        offsiteLag = registry.makeGauge(
            name: Name.offsiteLag, labels: [],
            help: "How long the oldest backup waiting for its off-site copy has waited, in seconds (0: none waits)")
        jobRunning = Dictionary(
            uniqueKeysWithValues: JobKind.allCases.map { kind in
                (
                    kind,
                    registry.makeGauge(
                        name: Name.jobRunning, labels: [("kind", kind.rawValue)],
                        help: "1 while this server runs a job of this kind, else 0")
                )
            })
        nextRun = registry.makeGauge(
            name: Name.nextRun, labels: [],
            help: "When the next automatic backup is due, in Unix seconds (0: automatic backups are off)")
        interval = registry.makeGauge(
            name: Name.interval, labels: [],
            help: "The automatic backups' interval, in seconds (0: automatic backups are off)")
        cpu = registry.makeCounter(name: Name.cpu, labels: [], help: "User and system CPU time spent, in seconds")
        resident = registry.makeGauge(name: Name.resident, labels: [], help: "Resident memory size in bytes")
        virtual = registry.makeGauge(name: Name.virtual, labels: [], help: "Virtual memory size in bytes")
        startTime = registry.makeGauge(
            name: Name.startTime, labels: [], help: "Start time of the process since the Unix epoch in seconds")
        openFDs = registry.makeGauge(name: Name.openFDs, labels: [], help: "Number of open file descriptors")
        maxFDs = registry.makeGauge(
            name: Name.maxFDs, labels: [], help: "Maximum number of open file descriptors (-1: unlimited)")
    }

    /// Sets the gauges from what a scrape read and renders the whole page.
    func render(figures: CatalogFigures, job: JobStatus?, process: ProcessFigures?, now: Date) -> String {
        scrape.withLock { lastCPU in
            lastSuccess.set(figures.lastSuccessAt?.timeIntervalSince1970 ?? 0)
            lastFailure.set(figures.lastFailureAt?.timeIntervalSince1970 ?? 0)
            for (status, gauge) in records { gauge.set(Double(figures.recordsByStatus[status] ?? 0)) }
            offsiteLag.set(figures.offsiteLag(at: now))
            for (kind, gauge) in jobRunning { gauge.set(job?.kind == kind && job?.state == .running ? 1.0 : 0.0) }
            nextRun.set(figures.nextAutomaticBackupAt?.timeIntervalSince1970 ?? 0)
            interval.set(figures.automaticInterval ?? 0)
            if let process {
                // A counter only goes up: it gets what was spent since the last scrape.
                if process.cpuSeconds > lastCPU {
                    cpu.increment(by: process.cpuSeconds - lastCPU)
                    lastCPU = process.cpuSeconds
                }
                resident.set(process.residentMemoryBytes)
                virtual.set(process.virtualMemoryBytes)
                startTime.set(process.startTimeSeconds)
                openFDs.set(process.openFileDescriptors)
                maxFDs.set(process.maxFileDescriptors ?? -1)
            }
            return Self.withHelp(registry.emitToString())
        }
    }

    /// `page` with a `# HELP` line before the `# TYPE` line of each metric the core records
    /// (swift-metrics passes no help text to the registry, and the registry refuses a second,
    /// different one for the same name).
    static func withHelp(_ page: String) -> String {
        var lines: [Substring] = []
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst("# TYPE ".count).split(separator: " ").first,
                let help = BackupMetrics.help[String(name)]
            {
                lines.append("# HELP \(name) \(help)")
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

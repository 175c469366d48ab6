import Synchronization

/// Forwards every progress step to the job's observer and stores it in the catalog at each
/// whole percent, so other processes (the API, another CLI) can show it without flooding writes.
final class ProgressReporter: Sendable {
    private let catalog: Catalog
    private let id: String
    private let sink: @Sendable (JobProgress) -> Void
    private let lastStoredPercent = Mutex(-1)

    init(catalog: Catalog, id: String, sink: @escaping @Sendable (JobProgress) -> Void) {
        self.catalog = catalog
        self.id = id
        self.sink = sink
    }

    func report(
        phase: JobProgress.Phase, done: Int64, total: Int64, phaseDone: Int64? = nil, phaseTotal: Int64? = nil,
        pagesDone: Int? = nil, pageCount: Int? = nil
    ) {
        let progress = JobProgress(
            backupID: id, phase: phase, doneBytes: done, totalBytes: total, pagesDone: pagesDone, pageCount: pageCount,
            phaseDoneBytes: phaseDone, phaseTotalBytes: phaseTotal)
        sink(progress)
        let percent = Int(progress.fraction * 100)
        let shouldStore = lastStoredPercent.withLock { last in
            guard percent != last else { return false }
            last = percent
            return true
        }
        if shouldStore {
            try? catalog.setProgress(id: id, doneBytes: done, totalBytes: total)
        }
    }
}

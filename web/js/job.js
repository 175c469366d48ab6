// "Back up now" and the running job's live progress, pushed by the server as Server-Sent Events;
// catalog changes (also those of other processes, such as the CLI) keep the list and overview true.
import { api, ApiError } from './api.js';
import { $, notify, say, sayError, unsay } from './dom.js';
import { formatPercent } from './i18n.js';
import { loadBackups, showProgress } from './backups.js';
import { shortId } from './format.js';
import { loadStats } from './stats.js';

let source = null;
let current = null;
let otherProcessBusy = false;
/** The backup another process is making (BackupInfo with its stored progress), from `catalog` events. */
let foreign = null;

/** Opens the event stream; it reconnects by itself, and after a restart is opened again. */
export function connectEvents() {
  source?.close();
  source = new EventSource('/api/events');
  source.addEventListener('status', (event) => {
    const status = JSON.parse(event.data);
    otherProcessBusy = status.state === 'busy' && !status.current_job;
    show(status.current_job?.state === 'running' ? status.current_job : null);
  });
  source.addEventListener('job', (event) => onJob(JSON.parse(event.data)));
  // The first one comes at once, so changes made while the stream was down are caught up on.
  source.addEventListener('catalog', (event) => onCatalog(JSON.parse(event.data)));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // An HTTP error (a 401 after the session ended): let the API report it.
      api.status().then(connectEvents, () => {});
    }
  });
}

export function disconnectEvents() {
  source?.close();
  source = null;
}

let refreshing = null;
let refreshAgain = false;

/** Reloads the list and the overview; calls during a reload coalesce into one more reload. */
function refresh() {
  // A restore puts the server in maintenance (503) and restarts it; the page reloads after.
  if (current?.kind === 'restore') return;
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = Promise.all([loadBackups(), loadStats()])
    .catch(() => {})
    .finally(() => {
      refreshing = null;
      if (refreshAgain) {
        refreshAgain = false;
        refresh();
      }
    });
}

function onCatalog(change) {
  const ended = foreign && !change.foreign_job;
  foreign = change.foreign_job;
  // Busy without a record (another process verifying) is known from the status event only.
  if (foreign) otherProcessBusy = true;
  else if (ended) otherProcessBusy = false;
  render();
  refresh();
}

function onJob(job) {
  if (job.state === 'running') {
    otherProcessBusy = false;
    show(job);
    if (job.kind === 'backup' && !showProgress(job.backup_id, job.progress)) loadBackups().catch(() => {});
    return;
  }
  show(null);
  if (job.kind === 'backup') {
    notify(`job.done.${job.state}`, {}, { error: job.state === 'failed' });
  }
  if (job.kind !== 'restore') refresh();
}

/** Renders `job` (or the idle state) in the progress panel. */
function show(job) {
  current = job;
  render();
}

export function render() {
  const panel = $('#job');
  const title = $('#job-title');
  const text = $('#job-text');
  if (!current && foreign) {
    panel.hidden = false;
    panel.dataset.foreign = foreign.id;
    $('#backup-now').disabled = true;
    say(title, 'job.foreign');
    const percent = foreign.progress?.percent ?? 0;
    $('#job-progress').value = percent;
    say(text, 'job.foreign_progress', { id: shortId(foreign.id), percent: formatPercent(percent) });
    $('#job-cancel').hidden = true;
    return;
  }
  delete panel.dataset.foreign;
  if (!current) {
    panel.hidden = !otherProcessBusy;
    unsay(title);
    if (otherProcessBusy) say(text, 'job.other_process');
    $('#job-progress').value = 0;
    $('#job-cancel').hidden = true;
    $('#backup-now').disabled = otherProcessBusy;
    return;
  }
  panel.hidden = false;
  $('#backup-now').disabled = true;
  say(title, `job.${current.kind}`);
  const percent = current.progress?.percent ?? 0;
  $('#job-progress').value = percent;
  // The phase's own percent beside its name: "Copying the database: 100%", then "Compressing: 0%".
  const phasePercent = current.phase_progress?.percent ?? percent;
  if (current.phase) say(text, `job.phase.${current.phase}`, { percent: formatPercent(phasePercent) });
  else say(text, 'job.starting');
  // A restore cannot be cancelled once begun; an import's job has no record to delete yet.
  // A backup or a verification is cancelled from here; an upload is not (it is retried on its own).
  $('#job-cancel').hidden = current.kind !== 'backup' && current.kind !== 'verify';
}

async function backUpNow(event) {
  event.preventDefault();
  const error = $('#backup-error');
  unsay(error);
  const note = $('#backup-note');
  try {
    // The scope chosen beside the button; empty: the settings' default scope.
    const info = await api.create(note.value.trim(), $('#backup-scope').value || null);
    note.value = '';
    if (!current) show({ kind: 'backup', backup_id: info.id, state: 'running', phase: null, progress: null });
    await loadBackups();
  } catch (failure) {
    if (!(failure instanceof ApiError)) throw failure;
    // A scope with files while no directory is configured: say where to add one.
    if (failure.fields?.scope) say(error, 'backups.error.scope');
    else sayError(error, failure);
  }
}

async function cancel() {
  if (!current) return;
  try {
    await api.remove(current.backup_id);
  } catch (failure) {
    if (!(failure instanceof ApiError)) throw failure;
    sayError($('#backup-error'), failure);
  }
}

export function setUpJobs() {
  $('#backup-now-form').addEventListener('submit', backUpNow);
  $('#job-cancel').addEventListener('click', cancel);
}

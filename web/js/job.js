// "Back up now" and the running job's live progress, pushed by the server as Server-Sent Events.
import { api, ApiError } from './api.js';
import { $, notify, say, sayError, unsay } from './dom.js';
import { formatPercent } from './i18n.js';
import { loadBackups, showProgress } from './backups.js';
import { loadStats } from './stats.js';

let source = null;
let current = null;
let otherProcessBusy = false;

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
  if (job.kind !== 'restore') Promise.all([loadBackups(), loadStats()]).catch(() => {});
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
  $('#job-cancel').hidden = current.kind === 'restore';
}

async function backUpNow(event) {
  event.preventDefault();
  const error = $('#backup-error');
  unsay(error);
  const note = $('#backup-note');
  try {
    const info = await api.create(note.value.trim());
    note.value = '';
    if (!current) show({ kind: 'backup', backup_id: info.id, state: 'running', phase: null, progress: null });
    await loadBackups();
  } catch (failure) {
    if (!(failure instanceof ApiError)) throw failure;
    sayError(error, failure);
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

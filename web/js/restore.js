// Restore: the typed-id confirmation, then "restoring… restarting…", reconnection, and the outcome.
import { api, ApiError } from './api.js';
import { $, say, sayError, unsay } from './dom.js';
import { summary } from './backups.js';
import { shortId } from './format.js';
import { protectedDatabase } from './stats.js';

const PENDING_KEY = 'backup-manager.pending-restore';
const POLL_MS = 1000;
let onFinished = () => {};

/** Opens the typed confirmation for restoring `item` (a BackupInfo): its short id confirms it. */
export function openRestore(item) {
  const id = item.id;
  const dialog = $('#restore-dialog');
  const input = $('#restore-id-input');
  $('#restore-summary').replaceChildren(summary(item));
  // PostgreSQL is restored by pg_restore into the database of the URL: the warning says so, and where.
  const database = protectedDatabase();
  if (database?.kind === 'postgresql') {
    say($('#restore-warning'), 'restore.warning_postgresql', { location: database.location });
  } else {
    say($('#restore-warning'), 'restore.warning');
  }
  say($('#restore-id-label'), 'restore.type_id', { id: shortId(id) });
  unsay($('#restore-id-error'));
  input.value = '';
  input.removeAttribute('aria-invalid');
  $('#restore-safety').checked = true;
  // A full bundle can be restored whole or in part; a bundle with files can keep the old trees.
  const scope = item.scope ?? 'database';
  $('#restore-only').value = '';
  $('#restore-only-field').hidden = scope !== 'full';
  $('#restore-keep-old').checked = false;
  dialog.dataset.scope = scope;
  followPart();
  dialog.dataset.id = id;
  dialog.returnValue = '';
  dialog.showModal();
  input.focus();
}

/** The warnings and the keep-old choice follow what the restore replaces: the database, the files or both. */
function followPart() {
  const scope = $('#restore-dialog').dataset.scope;
  const only = $('#restore-only').value;
  const database = scope !== 'files' && only !== 'files';
  const files = scope !== 'database' && only !== 'database';
  $('#restore-warning').hidden = !database;
  $('#restore-files-warning').hidden = !files;
  $('#restore-keep-old-field').hidden = !files;
}

function confirm(event) {
  const dialog = $('#restore-dialog');
  const input = $('#restore-id-input');
  // The short id shown in the dialog, or the whole id, in any case.
  const typed = input.value.trim().toLowerCase();
  if (typed !== shortId(dialog.dataset.id) && typed !== dialog.dataset.id) {
    event.preventDefault();
    say($('#restore-id-error'), 'restore.mismatch');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

async function start(id, safetyBackup, options) {
  const before = (await api.status()).last_restore?.finished_at ?? null;
  try {
    await api.restore(id, safetyBackup, options);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showBanner('failed');
    sayError($('#restore-message'), error);
    unsay($('#restore-detail'));
    return;
  }
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ id, before }));
  watch();
}

/** Whether this tab started a restore that has not reported its outcome yet. */
export function hasPendingRestore() {
  return sessionStorage.getItem(PENDING_KEY) !== null;
}

/** Polls `/api/status` through maintenance and the restart until the new outcome is there. */
export async function watch() {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null');
  if (!pending) return;
  $('#app').hidden = true;
  showBanner('working');
  say($('#restore-message'), 'restore.restoring');
  unsay($('#restore-detail'));
  for (;;) {
    let status = null;
    try {
      status = await api.status();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      say($('#restore-message'), 'restore.restarting');
    }
    const outcome = status?.last_restore;
    if (status && status.state !== 'maintenance' && outcome && outcome.finished_at !== pending.before) {
      sessionStorage.removeItem(PENDING_KEY);
      report(outcome);
      onFinished();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function report(outcome) {
  const detail = $('#restore-detail');
  if (outcome.outcome === 'succeeded') {
    showBanner('ok');
    say($('#restore-message'), 'restore.succeeded', { id: shortId(outcome.backup_id) });
    if (outcome.safety_backup_id) say(detail, 'restore.succeeded_safety', { id: shortId(outcome.safety_backup_id) });
    else unsay(detail);
  } else {
    showBanner('failed');
    say($('#restore-message'), 'restore.failed');
    if (outcome.error) say(detail, 'restore.failed_detail', { reason: outcome.error });
    else unsay(detail);
  }
}

function showBanner(state) {
  const banner = $('#restore-banner');
  banner.hidden = false;
  banner.classList.toggle('ok', state === 'ok');
  banner.classList.toggle('failed', state === 'failed');
}

/** `finished` runs after a restore's outcome is shown (reload everything, reconnect events). */
export function setUpRestore(finished) {
  onFinished = finished;
  $('#restore-confirm').addEventListener('click', confirm);
  const dialog = $('#restore-dialog');
  $('#restore-only').addEventListener('change', followPart);
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'confirm') return;
    const keepOld = !$('#restore-keep-old-field').hidden && $('#restore-keep-old').checked;
    start(dialog.dataset.id, $('#restore-safety').checked, { only: $('#restore-only').value || null, keepOld });
  });
}


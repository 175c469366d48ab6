// The list of backups: paged, with download, pin, delete and restore; each shown by its short id.
import { api, ApiError } from './api.js';
import { $, element, notify, errorKey, say, value } from './dom.js';
import { formatBytes, formatDate, formatPercent, has, language, plural, t } from './i18n.js';
import { shortId } from './format.js';
import { noteNode } from './notes.js';
import { openRestore } from './restore.js';
import { loadStats } from './stats.js';

const PAGE_SIZE = 20;
let items = [];
let nextCursor = null;
/** The list's scope filter (database, files, full), or null for every backup. */
let scopeFilter = null;

/** Reloads the list, keeping as many rows as are shown (`append` fetches the next page). */
export async function loadBackups({ append = false } = {}) {
  const limit = append ? PAGE_SIZE : Math.min(500, Math.max(PAGE_SIZE, items.length));
  const page = await api.list(append ? nextCursor : null, limit, scopeFilter);
  items = append ? items.concat(page.items) : page.items;
  nextCursor = page.next_cursor;
  render();
}

/** Updates one row's progress from a job event without reloading the list. */
export function showProgress(id, progress) {
  const item = items.find((candidate) => candidate.id === id);
  if (!item) return false;
  item.progress = progress;
  render();
  return true;
}

// Rendered rows by backup id, with what they were rendered from: a reload that changes nothing
// (most catalog events) keeps the very same elements, so focus and selection survive it.
const rendered = new Map();

export function render() {
  const body = $('#backup-rows');
  const lang = language();
  const rows = items.map((item) => {
    const key = `${lang} ${JSON.stringify(item)}`;
    const cached = rendered.get(item.id);
    if (cached?.key === key) return cached.node;
    const node = row(item);
    rendered.set(item.id, { key, node });
    return node;
  });
  const shownIds = new Set(items.map((item) => item.id));
  for (const id of rendered.keys()) if (!shownIds.has(id)) rendered.delete(id);
  rows.forEach((node, index) => {
    if (body.children[index] !== node) body.insertBefore(node, body.children[index] ?? null);
  });
  while (body.children.length > rows.length) body.lastElementChild.remove();
  const empty = $('#backups-empty');
  empty.hidden = items.length > 0;
  say(empty, scopeFilter ? 'backups.empty_filtered' : 'backups.empty');
  $('#backups-more').hidden = !nextCursor;
  const shown = $('#backups-shown');
  shown.replaceChildren(items.length > 0 ? plural('backups.shown', items.length) : '');
}

/** A backup's short id in monospace, selected whole with one click (copyable); the full id on hover. */
export function idCode(id) {
  const code = value(shortId(id), 'code');
  code.classList.add('short-id');
  code.title = id;
  return code;
}

/** What a dialog shows about the backup it acts on: short id, date and note. */
export function summary(item) {
  const entry = (labelKey, ...children) =>
    element('div', {}, element('dt', {}, t(labelKey)), element('dd', {}, ...children));
  return element(
    'dl',
    { class: 'backup-summary', 'data-id': item.id },
    entry('backups.col.id', idCode(item.id)),
    entry('backups.col.date', value(formatDate(item.created_at))),
    entry('backups.col.scope', scopeText(item)),
    entry('backups.col.note', noteNode(item) || t('backups.no_note')),
  );
}

function cell(labelKey, className, ...children) {
  return element('td', { 'data-label': t(labelKey), class: className }, ...children);
}

function badge(key, className) {
  return element('span', { class: `badge ${className}` }, t(key));
}

/**
 * The off-site copy's state (`BackupInfo.offsite`): pending, uploading, uploaded or failed (its
 * error beside it). Nothing for a server without off-site copies or a backup kept only here.
 */
function offsiteBadge(offsite) {
  if (!offsite || !offsite.status || offsite.status === 'none') return null;
  const key = `offsite.status.${offsite.status}`;
  if (!has(key)) return null;
  return element(
    'span',
    { class: `badge offsite offsite-${offsite.status}`, 'data-offsite': offsite.status },
    '☁ ', t(key),
  );
}

/** What a backup holds: its database, the configured directories, or both. */
function scopeText(item) {
  return has(`scope.${item.scope}`) ? t(`scope.${item.scope}`) : t('scope.database');
}

/**
 * What the directory sources met while backing up (an unreadable file, one that changed while it
 * was read): a badge with their count that opens the list, each as the server wrote it.
 */
function sourceWarnings(item) {
  const warnings = item.source_warnings ?? [];
  if (warnings.length === 0) return null;
  return element(
    'details',
    { class: 'source-warnings', 'data-source-warnings': String(warnings.length) },
    element('summary', { class: 'badge warn' }, plural('backups.source_warnings', warnings.length)),
    element('ul', { 'data-value': '' }, ...warnings.map((warning) => element('li', {}, warning))),
  );
}

function row(item) {
  const active = item.status === 'pending' || item.status === 'running';
  const status = [badge(`status.${item.status}`, `status-${item.status}`)];
  if (active && item.progress) status.push(' ', value(formatPercent(item.progress.percent)));
  if (item.pinned) status.push(' ', badge('backups.pinned.yes', 'pinned'));
  if (item.verification && !item.verification.ok) {
    // A failed verification stays visible until a later one passes: a warning mark with the reason.
    status.push(' ', element(
      'span',
      { class: 'badge verify-failed', 'data-verification': 'failed', title: item.verification.error ?? '' },
      '⚠ ', t('backups.verify_failed'),
    ));
    if (item.verification.error) status.push(' ', element('span', { class: 'verify-reason' }, value(item.verification.error)));
  }
  if (item.encrypted) {
    status.push(' ', element(
      'span',
      { class: 'badge encrypted', 'data-encrypted': 'true', title: t('backups.encrypted_title') },
      t('backups.encrypted'),
    ));
  }
  const warned = sourceWarnings(item);
  if (warned) status.push(' ', warned);
  const offsite = offsiteBadge(item.offsite);
  if (offsite) status.push(' ', offsite);
  if (offsite && item.offsite.status === 'failed' && item.offsite.error) {
    status.push(' ', element('span', { class: 'offsite-reason' }, value(item.offsite.error)));
  }
  // The server decides what a backup's state allows (`actions`); the page only offers it.
  const allows = (action) => (item.actions ?? []).includes(action);
  const actions = [];
  if (allows('download')) {
    actions.push(button('download', item.id, () => download(item.id)));
  }
  if (allows('pin')) {
    actions.push(
      item.pinned
        ? button('unpin', item.id, () => setPinned(item, false))
        : button('pin', item.id, () => setPinned(item, true)),
    );
  }
  if (allows('delete')) {
    actions.push(button('delete', item.id, () => confirmDelete(item), 'destructive'));
  }
  if (allows('restore')) {
    actions.push(button('restore', item.id, () => openRestore(item), 'restoring'));
  }
  return element(
    'tr',
    { 'data-id': item.id, 'data-status': item.status },
    cell('backups.col.id', 'id', idCode(item.id)),
    cell('backups.col.date', 'date', element('time', { datetime: item.created_at, 'data-value': '' }, formatDate(item.created_at))),
    cell('backups.col.type', 'type', t(`type.${item.type}`)),
    cell('backups.col.scope', 'scope', element('span', { 'data-scope': item.scope ?? 'database' }, scopeText(item))),
    cell('backups.col.size', 'size', sizeNode(item)),
    cell('backups.col.status', 'status', ...status),
    cell('backups.col.note', 'note', noteNode(item)),
    cell('backups.col.actions', 'actions', element('div', { class: 'buttons' }, ...actions)),
  );
}

/**
 * A bundle's size; for an incremental backup what it added to the repository against what it
 * restores to ("added 12 MB of 2.1 GB").
 */
function sizeNode(item) {
  if (item.size_bytes == null) return t('backups.size.none');
  if (item.format !== 'incremental' || item.logical_bytes == null) return value(formatBytes(item.size_bytes));
  return element(
    'span',
    { 'data-format': 'incremental' },
    t('backups.size.added', { added: formatBytes(item.size_bytes), logical: formatBytes(item.logical_bytes) }),
  );
}

function button(action, id, onclick, style = 'secondary') {
  return element(
    'button',
    {
      type: 'button',
      class: `small ${style}`,
      'data-action': action,
      'aria-label': t(`action.label.${action}`, { id: shortId(id) }),
      onclick,
    },
    t(`action.${action}`),
  );
}

async function guarded(work) {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const [key, params] = errorKey(error);
    notify(key, params, { error: true });
  }
}

function download(id) {
  return guarded(async () => {
    const { url } = await api.downloadLink(id);
    const link = element('a', { href: url, download: '' });
    document.body.append(link);
    link.click();
    link.remove();
  });
}

function setPinned(item, pinned) {
  return guarded(async () => {
    await api.update(item.id, { pinned });
    notify(pinned ? 'pin.done' : 'unpin.done', { id: shortId(item.id), date: formatDate(item.created_at) });
    await loadBackups();
  });
}

function confirmDelete(item) {
  const id = item.id;
  const dialog = $('#delete-dialog');
  $('#delete-summary').replaceChildren(summary(item));
  say($('#delete-body'), 'delete.body');
  dialog.returnValue = '';
  dialog.addEventListener(
    'close',
    () => {
      if (dialog.returnValue !== 'confirm') return;
      guarded(async () => {
        await api.remove(id);
        notify('delete.done');
        await Promise.all([loadBackups(), loadStats()]);
      });
    },
    { once: true },
  );
  dialog.showModal();
}

export function setUpBackups() {
  $('#backups-more').addEventListener('click', () => guarded(() => loadBackups({ append: true })));
  $('#backups-scope-filter').addEventListener('change', (event) => {
    scopeFilter = event.target.value || null;
    items = [];
    nextCursor = null;
    guarded(() => loadBackups());
  });
}

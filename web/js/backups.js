// The list of backups: paged, with download, pin, delete and restore.
import { api, ApiError } from './api.js';
import { $, element, notify, errorKey, say, value } from './dom.js';
import { formatBytes, formatDate, formatPercent, plural, t } from './i18n.js';
import { noteNode } from './notes.js';
import { openRestore } from './restore.js';
import { loadStats } from './stats.js';

const PAGE_SIZE = 20;
let items = [];
let nextCursor = null;

/** Reloads the list, keeping as many rows as are shown (`append` fetches the next page). */
export async function loadBackups({ append = false } = {}) {
  const limit = append ? PAGE_SIZE : Math.min(500, Math.max(PAGE_SIZE, items.length));
  const page = await api.list(append ? nextCursor : null, limit);
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

export function render() {
  $('#backup-rows').replaceChildren(...items.map(row));
  $('#backups-empty').hidden = items.length > 0;
  $('#backups-more').hidden = !nextCursor;
  const shown = $('#backups-shown');
  shown.replaceChildren(items.length > 0 ? plural('backups.shown', items.length) : '');
}

function cell(labelKey, className, ...children) {
  return element('td', { 'data-label': t(labelKey), class: className }, ...children);
}

function row(item) {
  const active = item.status === 'pending' || item.status === 'running';
  const status = [t(`status.${item.status}`)];
  if (active && item.progress) status.push(' ', value(formatPercent(item.progress.percent)));
  const actions = [];
  if (item.status === 'completed') {
    actions.push(button('download', item.id, () => download(item.id)));
  }
  if (!active) {
    actions.push(
      item.pinned
        ? button('unpin', item.id, () => setPinned(item.id, false))
        : button('pin', item.id, () => setPinned(item.id, true)),
    );
    actions.push(button('delete', item.id, () => confirmDelete(item.id), 'danger'));
  }
  if (item.status === 'completed') {
    actions.push(button('restore', item.id, () => openRestore(item.id), 'danger'));
  }
  return element(
    'tr',
    { 'data-id': item.id, 'data-status': item.status },
    cell('backups.col.date', 'date', element('time', { datetime: item.created_at, 'data-value': '' }, formatDate(item.created_at))),
    cell('backups.col.type', 'type', t(`type.${item.type}`)),
    cell('backups.col.size', 'size', item.size_bytes == null ? t('backups.size.none') : value(formatBytes(item.size_bytes))),
    cell('backups.col.status', `status status-${item.status}`, ...status),
    cell('backups.col.note', 'note', noteNode(item)),
    cell('backups.col.pinned', 'pinned', t(item.pinned ? 'backups.pinned.yes' : 'backups.pinned.no')),
    cell('backups.col.actions', 'actions', element('div', { class: 'buttons' }, ...actions)),
  );
}

function button(action, id, onclick, style = 'secondary') {
  return element(
    'button',
    {
      type: 'button',
      class: `small ${style}`,
      'data-action': action,
      'aria-label': t(`action.label.${action}`, { id }),
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

function setPinned(id, pinned) {
  return guarded(async () => {
    await api.update(id, { pinned });
    await loadBackups();
  });
}

function confirmDelete(id) {
  const dialog = $('#delete-dialog');
  say($('#delete-body'), 'delete.body', { id });
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
}

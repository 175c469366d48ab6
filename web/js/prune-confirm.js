// Asks before a settings change that makes retention delete backups: a dialog listing them
// (date, short id, type, note) with Cancel (nothing is saved) and "Save and delete".
import { element, say } from './dom.js';
import { shortId } from './format.js';
import { formatDate, plural, t } from './i18n.js';
import { noteNode } from './notes.js';

let dialog = null;

function heading(key) {
  const cell = element('th', { scope: 'col' });
  say(cell, key);
  return cell;
}

function build() {
  const cancel = element('button', { type: 'button', class: 'secondary', id: 'prune-cancel' });
  const confirm = element('button', { value: 'confirm', class: 'danger', id: 'prune-confirm' });
  const scroller = element(
    'div',
    { class: 'table-scroll' },
    element(
      'table',
      { class: 'prune-table' },
      element(
        'thead',
        {},
        element(
          'tr',
          {},
          heading('backups.col.date'),
          heading('prune.col.id'),
          heading('backups.col.type'),
          heading('backups.col.note'),
        ),
      ),
      element('tbody', { id: 'prune-list' }),
    ),
  );
  scroller.style.maxHeight = '50vh';
  scroller.style.overflowY = 'auto';
  dialog = element(
    'dialog',
    { id: 'prune-dialog', 'aria-labelledby': 'prune-title', 'aria-describedby': 'prune-body' },
    element(
      'form',
      { method: 'dialog' },
      element('h2', { id: 'prune-title' }),
      element('p', { id: 'prune-body', class: 'warning' }),
      scroller,
      element('div', { class: 'row end' }, cancel, confirm),
    ),
  );
  say(dialog.querySelector('#prune-title'), 'prune.title');
  say(cancel, 'dialog.cancel');
  say(confirm, 'prune.confirm');
  cancel.addEventListener('click', () => dialog.close('cancel'));
  document.body.append(dialog);
}

function entry(backup) {
  return element(
    'tr',
    { 'data-id': backup.id },
    element('td', {}, element('time', { datetime: backup.created_at, 'data-value': '' }, formatDate(backup.created_at))),
    element('td', {}, element('code', { class: 'short-id', 'data-value': '' }, shortId(backup.id))),
    element('td', {}, t(`type.${backup.type}`)),
    element('td', { class: 'note' }, noteNode(backup)),
  );
}

/** Shows `backups` (what retention would delete) and resolves true only when the operator confirms. */
export function confirmDeletions(backups) {
  if (!dialog) build();
  dialog.querySelector('#prune-body').textContent = plural('prune.body', backups.length);
  dialog.querySelector('#prune-list').replaceChildren(...backups.map(entry));
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
    dialog.querySelector('#prune-cancel').focus();
  });
}

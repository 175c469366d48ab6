// A backup's note as the page shows it: what a person wrote, as it is (a value), or a note the
// server generated (`note_kind`, `note_args`) worded in the page's language.
import { value } from './dom.js';
import { shortId } from './format.js';
import { t } from './i18n.js';

/** The generated note of `item` in the page's language, or null when it has none. */
export function generatedNote(item) {
  if (item.note_kind === 'pre_restore') {
    const id = item.note_args?.backup_id;
    return id ? t('note.pre_restore', { id: shortId(id) }) : t('note.pre_restore_file');
  }
  return null;
}

/** A node for `item`'s note: the person's text marked as a value, else the generated note, else ''. */
export function noteNode(item) {
  if (item.note) return value(item.note);
  return generatedNote(item) ?? '';
}

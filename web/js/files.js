// The "Files" part of the settings form: the directories backed up beside the database (a list
// with add and remove; each row is an input named `directories[N]`, so the API's field error for
// that path lands on its row), the exclude patterns (one per line) and the default scope.
// The server checks every path (absolute, an existing directory, outside the data directory, no
// duplicates, none inside another); the page only refuses an empty or relative path before adding.
import { $, element, say, unsay } from './dom.js';

const form = () => $('#settings-form');
const list = () => $('#directories');

/** The paths in the list, in order. */
function paths() {
  return [...list().querySelectorAll('input')].map((input) => input.value.trim());
}

/** Draws the list from `values`: one labelled input and a remove button per directory. */
function draw(values) {
  const rows = values.map((path, index) => {
    const id = `directory-${index}`;
    const label = element('label', { for: id, class: 'visually-hidden' });
    say(label, 'files.directory', { number: index + 1 });
    const input = element('input', {
      id,
      name: `directories[${index}]`,
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': `${id}-error ${id}-reason`,
    });
    input.value = path;
    const remove = element('button', {
      type: 'button',
      class: 'secondary small',
      'data-action': 'remove-directory',
      'aria-describedby': id,
      onclick: () => removeAt(index),
    });
    say(remove, 'files.remove');
    // The translated rule, then the server's own words about this path (a value: not translated).
    const error = element('p', { id: `${id}-error`, class: 'field-error' });
    const reason = element('p', { id: `${id}-reason`, class: 'field-error reason', 'data-value': '' });
    return element(
      'li',
      { class: 'directory', 'data-index': String(index) },
      label,
      element('div', { class: 'row' }, element('div', { class: 'grow' }, input), remove),
      error,
      reason,
    );
  });
  list().replaceChildren(...rows);
  $('#directories-empty').hidden = values.length > 0;
}

function removeAt(index) {
  const values = paths();
  values.splice(index, 1);
  draw(values);
  say($('#directories-unsaved'), 'files.unsaved');
  // Focus stays in the list: on the row that took the removed one's place, else the new-path input.
  (list().querySelectorAll('button')[Math.min(index, values.length - 1)] ?? $('#directory-new')).focus();
}

function add() {
  const input = $('#directory-new');
  const error = $('#directory-new-error');
  const path = input.value.trim();
  let problem = null;
  if (path === '') problem = 'files.error.empty';
  else if (!path.startsWith('/')) problem = 'files.error.relative';
  else if (paths().includes(path)) problem = 'files.error.listed';
  if (problem) {
    say(error, problem);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  unsay(error);
  input.removeAttribute('aria-invalid');
  draw([...paths(), path]);
  input.value = '';
  say($('#directories-unsaved'), 'files.unsaved');
  input.focus();
}

/** Shows the saved directories, exclude patterns and default scope. */
export function fillFiles(settings) {
  draw(settings.directories ?? []);
  form().elements.namedItem('exclude').value = (settings.exclude ?? []).join('\n');
  form().elements.namedItem('default_scope').value = settings.default_scope ?? '';
  unsay($('#directories-unsaved'));
}

/** The settings' `directories`, `exclude` and `default_scope` for a PUT. */
export function collectFiles() {
  return {
    directories: paths().filter((path) => path !== ''),
    exclude: form()
      .elements.namedItem('exclude')
      .value.split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== ''),
    default_scope: form().elements.namedItem('default_scope').value || null,
  };
}

/**
 * The server's reason beside each refused directory (`directories[N]`), and a problem with the
 * list as a whole (`directories`: too many) under the list. The translated rule beside each row is
 * shown by the form's own field errors.
 */
export function showDirectoryReasons(errors) {
  for (const reason of list().querySelectorAll('.reason')) reason.textContent = '';
  const note = $('#directories-error');
  if (errors.directories) say(note, 'settings.error.directories');
  else unsay(note);
  for (const [name, problem] of Object.entries(errors)) {
    const index = /^directories\[(\d+)\]$/.exec(name)?.[1];
    const reason = index === undefined ? null : $(`#directory-${index}-reason`);
    if (reason) reason.textContent = problem;
  }
}

export function setUpFiles() {
  $('#directory-add').addEventListener('click', add);
  // Enter in the new-path input adds it rather than saving the whole form.
  $('#directory-new').addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    add();
  });
}

// The settings form: load, save, and the API's field errors next to their fields. A change that
// makes retention delete backups is asked first: a dry run, then a dialog listing them.
import { api, ApiError } from './api.js';
import { collectAlerts, fillAlerts } from './alerts.js';
import { loadBackups } from './backups.js';
import { $, say, sayError, unsay } from './dom.js';
import { has } from './i18n.js';
import { confirmDeletions } from './prune-confirm.js';
import { collectEncryption, fillEncryption, setUpEncryption } from './encryption.js';
import { collectFiles, fillFiles, setUpFiles, showDirectoryReasons } from './files.js';
import { collectOffsite, fillOffsite, setUpOffsite } from './offsite.js';
import { loadStats } from './stats.js';

const form = () => $('#settings-form');
const numberFields = [
  'interval_hours',
  'retention.keep_last',
  'retention.keep_days',
  'retention.keep_daily',
  'retention.keep_weekly',
  'retention.keep_monthly',
  'compression_level',
];

const input = (name) => form().elements.namedItem(name);

// compression_level's range by codec (the server's rule, BackupSettings; the page only guides).
const levels = {
  gzip: { max: 9, hint: 'settings.compression_hint' },
  zstd: { max: 19, hint: 'settings.compression_hint_zstd' },
};

/** The level input's range and hint follow the chosen codec. */
function followCodec() {
  const codec = levels[input('codec').value] ?? levels.gzip;
  input('compression_level').max = String(codec.max);
  say($('#compression_level-hint'), codec.hint);
}

export async function loadSettings() {
  fill(await api.settings());
}

function fill(settings) {
  input('enabled').checked = settings.enabled;
  input('interval_hours').value = settings.interval_hours;
  for (const [key, number] of Object.entries(settings.retention)) {
    const field = input(`retention.${key}`);
    if (!field) continue;
    if (field.type === 'checkbox') field.checked = number;
    else field.value = number;
  }
  input('format').value = settings.format ?? 'bundle';
  input('codec').value = settings.codec;
  followCodec();
  input('compression_level').value = settings.compression_level;
  input('webhook_url').value = settings.webhook_url ?? '';
  fillFiles(settings);
  fillOffsite(settings.offsite);
  fillEncryption(settings.encryption);
  fillAlerts(settings);
}

/** A list item's name without its index: `directories[2]` → `directories`. */
const listName = (name) => name.replace(/\[\d+\]$/, '');

function showErrors(errors) {
  // A list's item is named with its index (`encryption.recipients[1]`): a field of that very name
  // (a row of the directories list) shows it, else the list's field (the recipients' textarea).
  const fields = { ...errors };
  for (const [name, problem] of Object.entries(errors)) fields[listName(name)] ??= problem;
  for (const field of form().querySelectorAll('input, select, textarea')) {
    const slot = $(`#${field.id}-error`);
    const problem = field.name ? fields[field.name] : undefined;
    field.toggleAttribute('aria-invalid', Boolean(problem));
    if (problem) field.setAttribute('aria-invalid', 'true');
    if (!slot) continue;
    const key = `settings.error.${listName(field.name)}`;
    if (problem) say(slot, has(key) ? key : 'settings.error.generic');
    else unsay(slot);
  }
  showDirectoryReasons(errors);
}

function collect() {
  const settings = { retention: {} };
  const local = {};
  for (const name of numberFields) {
    const text = input(name).value.trim();
    const number = Number(text);
    if (text === '' || !Number.isSafeInteger(number)) local[name] = true;
    if (name.startsWith('retention.')) settings.retention[name.slice('retention.'.length)] = number;
    else settings[name] = number;
  }
  settings.format = input('format').value;
  settings.codec = input('codec').value;
  settings.enabled = input('enabled').checked;
  settings.retention.include_manual = input('retention.include_manual').checked;
  settings.retention.per_scope = input('retention.per_scope').checked;
  settings.webhook_url = input('webhook_url').value.trim() || null;
  settings.offsite = collectOffsite(local);
  settings.encryption = collectEncryption();
  Object.assign(settings, collectFiles(), collectAlerts());
  return { settings, local };
}

async function save(event) {
  event.preventDefault();
  const status = $('#settings-status');
  unsay(status);
  status.classList.remove('error');
  const { settings, local } = collect();
  if (Object.keys(local).length > 0) {
    showErrors(local);
    say(status, 'settings.invalid');
    status.classList.add('error');
    form().querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  const button = $('#settings-save');
  button.disabled = true;
  try {
    const preview = await api.previewSettings(settings);
    showErrors({});
    if (preview.would_delete.length > 0 && !(await confirmDeletions(preview.would_delete))) {
      say(status, 'settings.not_saved');
      return;
    }
    fill(await api.saveSettings(settings));
    say(status, 'settings.saved');
    await Promise.all([loadStats(), loadBackups()]);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(error.fields ?? {});
    if (error.code === 'validation_failed') say(status, 'settings.invalid');
    else sayError(status, error);
    status.classList.add('error');
    form().querySelector('[aria-invalid="true"]')?.focus();
  } finally {
    button.disabled = false;
  }
}

export function setUpSettings() {
  form().addEventListener('submit', save);
  input('codec').addEventListener('change', followCodec);
  setUpOffsite();
  setUpEncryption();
  setUpFiles();
}

// The "Off-site copy" part of the settings form: the bucket, the write-only secret (the field
// never holds the stored value: its placeholder says whether one is set, and empty leaves it
// unchanged), remote retention, and the "Test connection" button with its named outcome.
import { api, ApiError } from './api.js';
import { $, say, sayError, unsay, value } from './dom.js';
import { has, t } from './i18n.js';

const form = () => $('#settings-form');
const input = (name) => form().elements.namedItem(`offsite.${name}`);
const textFields = ['endpoint', 'region', 'bucket', 'prefix', 'access_key_id'];
const keepFields = ['keep_last', 'keep_days', 'keep_daily', 'keep_weekly', 'keep_monthly'];

/** Shows the saved off-site settings; the secret field stays empty whatever is stored. */
export function fillOffsite(offsite) {
  if (!offsite) return;
  input('enabled').checked = offsite.enabled;
  input('path_style').checked = offsite.path_style;
  for (const name of textFields) input(name).value = offsite[name] ?? '';
  input('ca_file').value = offsite.ca_file ?? '';
  for (const name of keepFields) input(name).value = offsite[name];
  const secret = input('secret_access_key');
  secret.value = '';
  const key = offsite.secret_access_key_set ? 'offsite.secret_set' : 'offsite.secret_not_set';
  secret.dataset.i18nPlaceholder = key;
  secret.placeholder = t(key);
  say(
    $('#offsite-secret-access-key-hint'),
    offsite.credentials_from_environment ? 'offsite.secret_from_environment' : 'offsite.secret_access_key_hint',
  );
}

/** The `offsite` object of a PUT; `local` gets the names of number fields that hold no integer. */
export function collectOffsite(local = {}) {
  const offsite = {
    enabled: input('enabled').checked,
    path_style: input('path_style').checked,
    ca_file: input('ca_file').value.trim() || null,
  };
  for (const name of textFields) offsite[name] = input(name).value.trim();
  for (const name of keepFields) {
    const text = input(name).value.trim();
    const number = Number(text);
    if (text === '' || !Number.isSafeInteger(number)) local[`offsite.${name}`] = true;
    offsite[name] = number;
  }
  // Sent only when typed: an empty field keeps the stored secret.
  const secret = input('secret_access_key').value;
  if (secret !== '') offsite.secret_access_key = secret;
  return offsite;
}

/** Tests the connection with the form's values (saved ones where the form leaves them). */
async function testConnection() {
  const result = $('#offsite-test-result');
  const button = $('#offsite-test');
  result.classList.remove('error', 'ok');
  delete result.dataset.kind;
  say(result, 'offsite.testing');
  button.disabled = true;
  try {
    await api.testOffsite(collectOffsite());
    say(result, 'offsite.test_ok');
    result.classList.add('ok');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    result.classList.add('error');
    if (error.code === 'offsite_failed') {
      const kind = has(`offsite.kind.${error.kind}`) ? error.kind : 'unknown';
      say(result, `offsite.kind.${kind}`);
      result.dataset.kind = error.kind ?? 'unknown';
      if (error.message) result.append(' ', value(error.message));
    } else {
      sayError(result, error);
    }
  } finally {
    button.disabled = false;
  }
}

export function setUpOffsite() {
  $('#offsite-test').addEventListener('click', testConnection);
  unsay($('#offsite-test-result'));
}

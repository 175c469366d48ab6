// The "Alerts and heartbeat" part of the settings form: the heartbeat URL and the Telegram
// settings. The bot token is write-only as the S3 secret is: the field never holds the stored
// value, its placeholder says whether one is set, and empty leaves it unchanged.
import { $ } from './dom.js';
import { t } from './i18n.js';

const form = () => $('#settings-form');
const input = (name) => form().elements.namedItem(name);

/** Shows the saved heartbeat URL and chat settings; the token field stays empty. */
export function fillAlerts(settings) {
  input('heartbeat_url').value = settings.heartbeat_url ?? '';
  const alerts = settings.alerts;
  if (!alerts) return;
  input('alerts.telegram_chat_id').value = alerts.telegram_chat_id ?? '';
  input('alerts.telegram_api_base').value = alerts.telegram_api_base;
  input('alerts.language').value = alerts.language;
  input('alerts.on_success').checked = alerts.on_success;
  const token = input('alerts.telegram_bot_token');
  token.value = '';
  const key = alerts.telegram_bot_token_set ? 'alerts.token_set' : 'alerts.token_not_set';
  token.dataset.i18nPlaceholder = key;
  token.placeholder = t(key);
}

/** `heartbeat_url` and the `alerts` object of a PUT. */
export function collectAlerts() {
  const alerts = {
    telegram_chat_id: input('alerts.telegram_chat_id').value.trim() || null,
    telegram_api_base: input('alerts.telegram_api_base').value.trim() || 'https://api.telegram.org',
    language: input('alerts.language').value,
    on_success: input('alerts.on_success').checked,
  };
  // Sent only when typed: an empty field keeps the stored token.
  const token = input('alerts.telegram_bot_token').value.trim();
  if (token !== '') alerts.telegram_bot_token = token;
  return { heartbeat_url: input('heartbeat_url').value.trim() || null, alerts };
}

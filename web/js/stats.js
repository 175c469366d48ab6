// The overview: how many backups, their size, the last success and failure, the next automatic run.
import { api } from './api.js';
import { $, say, value } from './dom.js';
import { formatBytes, formatDate, plural, t } from './i18n.js';

let last = null;

export async function loadStats() {
  last = await api.stats();
  render();
}

export function render() {
  if (!last) return;
  $('#stat-count').replaceChildren(
    last.count === 0 ? t('stats.empty') : plural('stats.summary', last.count, { size: formatBytes(last.total_bytes) }),
  );
  $('#stat-last-success').replaceChildren(last.last_success_at ? value(formatDate(last.last_success_at)) : t('stats.never'));
  $('#stat-last-failure').replaceChildren(last.last_failure_at ? value(formatDate(last.last_failure_at)) : t('stats.never'));
  $('#stat-next-auto').replaceChildren(last.next_auto_at ? value(formatDate(last.next_auto_at)) : t('stats.auto_off'));
  if (last.next_auto_at) say($('#next-auto'), 'settings.next', { time: formatDate(last.next_auto_at) });
  else say($('#next-auto'), 'settings.next_off');
}

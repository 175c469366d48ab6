// The overview: the protected database (its kind and where it lives), how many backups, their size,
// the last success and failure, the next automatic run, and a small chart of the recent backups
// (inline SVG drawn here: no library, no inline style).
import { api } from './api.js';
import { $, element, say, value } from './dom.js';
import { formatBytes, formatDate, formatPercent, language, plural, t } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
// The chart's own coordinates; CSS scales it to the card's width.
const WIDTH = 600;
const HEIGHT = 150;
const TOP = 22;
const BOTTOM = 142;
const MIN_SLOTS = 12;

let last = null;
/** The protected database, `{kind, location}` from `/api/status` (a server's never changes). */
let database = null;

export async function loadStats() {
  const [stats, status] = await Promise.all([api.stats(), database ? null : api.status()]);
  last = stats;
  if (status) database = status.database ?? null;
  render();
}

/** The protected database as `/api/status` names it: `{kind: 'sqlite'|'postgresql', location}`, or null. */
export function protectedDatabase() {
  return database;
}

export function render() {
  if (!last) return;
  // "SQLite · /srv/app/app.sqlite", "PostgreSQL · postgresql://app@127.0.0.1:5432/app" (never a password).
  $('#stat-database').replaceChildren(
    database
      ? t('stats.database_value', { kind: t(`stats.database_kind.${database.kind}`), location: database.location })
      : '',
  );
  $('#stat-count').replaceChildren(
    last.count === 0 ? t('stats.empty') : plural('stats.summary', last.count, { size: formatBytes(last.total_bytes) }),
  );
  $('#stat-last-success').replaceChildren(last.last_success_at ? value(formatDate(last.last_success_at)) : t('stats.never'));
  renderScopes(last.scopes ?? {});
  renderRepository(last.repository);
  $('#stat-last-failure').replaceChildren(last.last_failure_at ? value(formatDate(last.last_failure_at)) : t('stats.never'));
  $('#stat-next-auto').replaceChildren(last.next_auto_at ? value(formatDate(last.next_auto_at)) : t('stats.auto_off'));
  // Retention that could not delete a backup after a job is shown until a later run succeeds.
  const failure = last.last_retention_failure;
  $('#stat-retention-failure-row').hidden = !failure;
  $('#stat-retention-failure').replaceChildren(
    ...(failure ? [value(formatDate(failure.failed_at)), ': ', value(failure.error)] : []),
  );
  if (last.next_auto_at) say($('#next-auto'), 'settings.next', { time: formatDate(last.next_auto_at) });
  else say($('#next-auto'), 'settings.next_off');
  renderHistory(last.history ?? []);
}

/**
 * The last success of each scope that has backups, once there are files or full ones (a server
 * that backs up its database only shows nothing more than before).
 */
function renderScopes(scopes) {
  const shown = ['full', 'files', 'database'].filter((scope) => scopes[scope]?.count > 0);
  $('#stat-scopes-row').hidden = !shown.some((scope) => scope !== 'database');
  $('#stat-scopes').replaceChildren(
    ...shown.map((scope) => {
      const at = scopes[scope].last_success_at;
      const date = at ? formatDate(at) : t('stats.never');
      return element('div', { 'data-scope': scope }, t('stats.scope_last', { scope: t(`scope.${scope}`), date }));
    }),
  );
}

/**
 * The incremental repository, once it holds a completed backup: "1.2 GB stored for 21 GB of
 * backups (94% saved)".
 */
function renderRepository(repository) {
  const shown = repository?.savings_ratio != null;
  $('#stat-repository-row').hidden = !shown;
  $('#stat-repository').replaceChildren(
    shown
      ? t('stats.repository_value', {
          stored: formatBytes(repository.stored_bytes),
          logical: formatBytes(repository.logical_bytes),
          saved: formatPercent(repository.savings_ratio * 100),
        })
      : '',
  );
}

/** A duration in the largest unit (milliseconds to hours) that keeps the number at least 1. */
function formatDuration(ms) {
  const seconds = ms / 1000;
  const [amount, unit] =
    ms < 1000
      ? [ms, 'millisecond']
      : seconds < 60
        ? [seconds, 'second']
        : seconds < 3600
          ? [seconds / 60, 'minute']
          : [seconds / 3600, 'hour'];
  return new Intl.NumberFormat(language(), {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: amount < 10 && unit !== 'millisecond' ? 1 : 0,
  }).format(amount);
}

/** An SVG element; every attribute is set through the DOM (the CSP forbids style attributes). */
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, content] of Object.entries(attributes)) {
    if (content !== undefined && content !== null) node.setAttribute(name, String(content));
  }
  node.append(...children);
  return node;
}

function describe(backup) {
  return {
    date: formatDate(backup.created_at),
    status: t(`status.${backup.status}`),
    size: backup.size_bytes == null ? t('history.none') : formatBytes(backup.size_bytes),
    duration: backup.duration_ms == null ? t('history.none') : formatDuration(backup.duration_ms),
  };
}

/** Bars for sizes, dots for durations, oldest on the left; a failed backup gets a red band and cross. */
function chart(history) {
  const backups = [...history].reverse();
  const maxSize = Math.max(1, ...backups.map((b) => b.size_bytes ?? 0));
  const maxDuration = Math.max(1, ...backups.map((b) => b.duration_ms ?? 0));
  const failed = backups.filter((b) => b.status === 'failed').length;
  const slots = Math.max(backups.length, MIN_SLOTS);
  const slot = WIDTH / slots;
  const first = slots - backups.length; // right-aligned: the newest is always at the right edge
  const plot = BOTTOM - TOP;

  const marks = [];
  const points = [];
  backups.forEach((backup, index) => {
    const x = (first + index) * slot;
    const bar = { x: x + slot * 0.15, width: slot * 0.7 };
    const mark = svg('g', { class: `mark status-${backup.status}`, 'data-id': backup.id, 'data-status': backup.status });
    mark.append(svg('title', {}, t('history.mark', describe(backup))));
    if (backup.status === 'failed') {
      mark.append(
        svg('rect', { class: 'failure', x: bar.x, y: TOP, width: bar.width, height: plot }),
        svg('path', {
          class: 'failure-cross',
          d: `M${bar.x + 2} ${BOTTOM - bar.width + 2} L${bar.x + bar.width - 2} ${BOTTOM - 2} ` +
            `M${bar.x + 2} ${BOTTOM - 2} L${bar.x + bar.width - 2} ${BOTTOM - bar.width + 2}`,
        }),
      );
    } else if (backup.size_bytes != null) {
      const height = Math.max(1, (backup.size_bytes / maxSize) * plot);
      mark.append(svg('rect', { class: 'size', x: bar.x, y: BOTTOM - height, width: bar.width, height }));
    } else {
      mark.append(svg('rect', { class: 'empty', x: bar.x, y: BOTTOM - 2, width: bar.width, height: 2 }));
    }
    if (backup.duration_ms != null) {
      const cy = BOTTOM - (backup.duration_ms / maxDuration) * plot;
      points.push(`${x + slot / 2},${cy}`);
      mark.append(svg('circle', { class: 'duration', cx: x + slot / 2, cy, r: Math.min(4, slot / 4) }));
    }
    marks.push(mark);
  });

  return svg(
    'svg',
    {
      class: 'history-chart',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-labelledby': 'history-chart-title history-chart-desc',
    },
    svg('title', { id: 'history-chart-title' }, plural('history.chart', backups.length)),
    svg(
      'desc',
      { id: 'history-chart-desc' },
      t('history.desc', {
        size: formatBytes(maxSize),
        duration: formatDuration(maxDuration),
        failed: new Intl.NumberFormat(language()).format(failed),
      }),
    ),
    svg('text', { class: 'axis-label size', x: 0, y: 12, 'data-value': '' }, formatBytes(maxSize)),
    svg('text', { class: 'axis-label duration', x: WIDTH, y: 12, 'text-anchor': 'end', 'data-value': '' },
      formatDuration(maxDuration)),
    svg('line', { class: 'axis', x1: 0, x2: WIDTH, y1: BOTTOM + 0.5, y2: BOTTOM + 0.5 }),
    svg('polyline', { class: 'duration-line', points: points.join(' ') }),
    ...marks,
  );
}

/** The same data as a table for screen readers (visually hidden), newest first. */
function table(history) {
  const head = ['backups.col.date', 'backups.col.status', 'backups.col.size', 'history.col.duration'];
  return element(
    'table',
    { class: 'visually-hidden', id: 'history-table' },
    element('caption', {}, plural('history.chart', history.length)),
    element('thead', {}, element('tr', {}, ...head.map((key) => element('th', { scope: 'col' }, t(key))))),
    element(
      'tbody',
      {},
      ...history.map((backup) => {
        const text = describe(backup);
        return element(
          'tr',
          { 'data-id': backup.id },
          element('td', {}, value(text.date)),
          element('td', {}, text.status),
          element('td', {}, backup.size_bytes == null ? text.size : value(text.size)),
          element('td', {}, backup.duration_ms == null ? text.duration : value(text.duration)),
        );
      }),
    ),
  );
}

function renderHistory(history) {
  const figure = $('#history');
  figure.hidden = history.length === 0;
  if (history.length === 0) {
    $('#history-chart').replaceChildren();
    return;
  }
  $('#history-chart').replaceChildren(chart(history), table(history));
}

// Translations: every visible string of the page comes from i18n/<lang>.json.
// Dates and numbers are formatted by Intl in the chosen language; sizes by format.js.
import { formatBytes as formatByteCount } from './format.js';

export const LANGUAGES = ['en', 'ru'];
const STORAGE_KEY = 'backup-manager.language';
const catalogs = new Map();
let current = 'en';

export function language() {
  return current;
}

/** The remembered choice, else the browser's first supported language, else English. */
export function preferredLanguage() {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

export async function setLanguage(code, { remember = false } = {}) {
  if (!LANGUAGES.includes(code)) code = 'en';
  if (!catalogs.has(code)) {
    const response = await fetch(`/settings/backup/i18n/${code}.json`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`cannot load the ${code} translations (${response.status})`);
    catalogs.set(code, await response.json());
  }
  current = code;
  if (remember) localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
}

export function has(key) {
  return Object.hasOwn(catalogs.get(current) ?? {}, key);
}

/** The string for `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const template = catalogs.get(current)?.[key];
  if (template === undefined) {
    console.error(`missing translation: ${key}`);
    return key;
  }
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** The plural form of `key` for `count` (`key.one`, `key.few`, `key.many`, `key.other`). */
export function plural(key, count, params = {}) {
  const form = new Intl.PluralRules(current).select(count);
  return t(`${key}.${form}`, { count: formatNumber(count), ...params });
}

function formatNumber(value) {
  return new Intl.NumberFormat(current).format(value);
}

export function formatPercent(percent) {
  return new Intl.NumberFormat(current, { style: 'percent', maximumFractionDigits: 0 }).format(percent / 100);
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** Bytes in binary units by the CLI's rules (see format.js), the unit's name from the catalog. */
export function formatBytes(bytes) {
  return formatByteCount(bytes, current, (unit) => t(`unit.${unit}`));
}

/** Fills every `data-i18n` element's text (with `data-i18n-params`, JSON) and `data-i18n-<attribute>` attribute under `root`. */
export function translate(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    const params = element.dataset.i18nParams ? JSON.parse(element.dataset.i18nParams) : {};
    element.textContent = t(element.dataset.i18n, params);
  }
  for (const attribute of ['aria-label', 'title', 'placeholder']) {
    for (const element of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      element.setAttribute(attribute, t(element.getAttribute(`data-i18n-${attribute}`)));
    }
  }
  document.title = t('page.title');
}

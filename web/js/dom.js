// Small DOM helpers shared by the page's parts.
import { has, t } from './i18n.js';

export const $ = (selector) => document.querySelector(selector);

/** An element with attributes and children; text children become text nodes. */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** Data from the server or Intl (ids, notes, dates, sizes): marked so tests know it is not UI text. */
export function value(text, tag = 'span') {
  return element(tag, { 'data-value': '' }, String(text));
}

/** Shows the string `key` in `node` and keeps it translated when the language changes. */
export function say(node, key, params = {}) {
  node.dataset.i18n = key;
  node.dataset.i18nParams = JSON.stringify(params);
  node.textContent = t(key, params);
}

/** Empties a node filled by `say`. */
export function unsay(node) {
  delete node.dataset.i18n;
  delete node.dataset.i18nParams;
  node.textContent = '';
}

/** The translation key and parameters for an API error code. */
export function errorKey(error) {
  const key = `errors.${error.code}`;
  return has(key) ? [key, {}] : ['errors.unknown', { code: error.code }];
}

/** Shows an API error in `node`, translated. */
export function sayError(node, error) {
  say(node, ...errorKey(error));
}

let noticeTimer;

/** A short message (`key`, `params`) in the page's live region. */
export function notify(key, params = {}, { error = false } = {}) {
  const notice = $('#notice');
  say(notice, key, params);
  notice.classList.toggle('error', error);
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, 8000);
}

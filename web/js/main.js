// The settings page: sign in, then overview, backups and settings; English and Russian.
import { api, ApiError, onUnauthorized } from './api.js';
import { $, errorKey, say, unsay } from './dom.js';
import { language, preferredLanguage, setLanguage, translate } from './i18n.js';
import { loadBackups, render as renderBackups, setUpBackups } from './backups.js';
import { connectEvents, disconnectEvents, render as renderJob, setUpJobs } from './job.js';
import { hasPendingRestore, setUpRestore, watch } from './restore.js';
import { loadSettings, setUpSettings } from './settings.js';
import { loadStats, render as renderStats } from './stats.js';

function showSignIn(messageKey) {
  disconnectEvents();
  $('#app').hidden = true;
  $('#sign-out').hidden = true;
  $('#signin').hidden = false;
  const error = $('#signin-error');
  if (messageKey) say(error, messageKey);
  else unsay(error);
  $('#token-input').focus();
}

async function showApp() {
  $('#signin').hidden = true;
  $('#sign-out').hidden = false;
  if (hasPendingRestore()) {
    await watch();
    return;
  }
  $('#app').hidden = false;
  await Promise.all([loadStats(), loadSettings(), loadBackups()]);
  connectEvents();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('#token-input');
  const token = input.value.trim();
  if (!token) {
    say($('#signin-error'), 'signin.empty');
    return;
  }
  try {
    await api.signIn(token);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say($('#signin-error'), ...errorKey(error));
    input.select();
    return;
  }
  input.value = '';
  await showApp();
}

async function signOut() {
  await api.signOut().catch(() => {});
  showSignIn();
}

async function switchLanguage(code) {
  await setLanguage(code, { remember: true });
  translate();
  renderStats();
  renderBackups();
  renderJob();
}

async function start() {
  await setLanguage(preferredLanguage());
  translate();
  $('#language').value = language();
  $('#language').addEventListener('change', (event) => switchLanguage(event.target.value));
  $('#signin-form').addEventListener('submit', signIn);
  $('#sign-out').addEventListener('click', signOut);
  for (const button of document.querySelectorAll('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog').close('cancel'));
  }
  setUpBackups();
  setUpJobs();
  setUpSettings();
  setUpRestore(() => showApp());
  onUnauthorized(() => showSignIn('signin.expired'));

  const session = await api.session();
  if (session.signed_in) await showApp();
  else showSignIn();
}

start();

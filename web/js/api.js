// The REST API, with the session cookie the server issues at sign-in (never the token itself).

export class ApiError extends Error {
  constructor(status, code, message, fields = {}, kind = undefined) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    // What kind of off-site failure (`offsite_failed`): dns, tls, signature, bucket, permission…
    this.kind = kind;
  }
}

const listeners = new Set();

// The session's CSRF token, from the sign-in and from GET /api/session: kept in memory only and
// sent as X-Backup-CSRF with every request that changes something (the server refuses those
// without it, so another page that makes the browser send the cookie cannot act).
let csrfToken = null;

/** `callback` runs whenever the server answers 401: the session is missing or has ended. */
export function onUnauthorized(callback) {
  listeners.add(callback);
}

function headersFor(method, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-Backup-CSRF'] = csrfToken;
  return headers;
}

/** Keeps the CSRF token of a session answer (`{signed_in, csrf_token}`). */
function remember(session) {
  csrfToken = session?.signed_in ? session.csrf_token ?? null : null;
  return session;
}

async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: headersFor(method, body),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, 'network', String(error));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data?.error ?? {};
    const error = new ApiError(
      response.status, detail.code ?? 'unknown', detail.message ?? '', detail.fields ?? {}, detail.kind,
    );
    if (response.status === 401 && path !== '/api/session') listeners.forEach((callback) => callback(error));
    throw error;
  }
  return data;
}

export const api = {
  session: async () => remember(await request('GET', '/api/session')),
  signIn: async (token) => remember(await request('POST', '/api/session', { token })),
  signOut: async () => {
    try {
      return await request('DELETE', '/api/session');
    } finally {
      csrfToken = null;
    }
  },
  status: () => request('GET', '/api/status'),
  stats: () => request('GET', '/api/backups/stats'),
  /** A page of backups, newest first; `scope` (database, files, full) keeps only those. */
  list: (cursor, limit = 20, scope = null) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    if (scope) query.set('scope', scope);
    return request('GET', `/api/backups?${query}`);
  },
  /** Starts a backup; without `scope` the server uses the settings' default scope. */
  create: (note, scope = null) =>
    request('POST', '/api/backups', { ...(note ? { note } : {}), ...(scope ? { scope } : {}) }),
  update: (id, changes) => request('PATCH', `/api/backups/${encodeURIComponent(id)}`, changes),
  remove: (id) => request('DELETE', `/api/backups/${encodeURIComponent(id)}`),
  downloadLink: (id) => request('POST', `/api/backups/${encodeURIComponent(id)}/download-link`),
  /** Restores a backup: all it holds, or `only` its database or its files; `keepOld` keeps the old trees. */
  restore: (id, safetyBackup, { only = null, keepOld = false } = {}) =>
    request('POST', `/api/backups/${encodeURIComponent(id)}/restore`, {
      safety_backup: safetyBackup,
      ...(only ? { only } : {}),
      ...(keepOld ? { keep_old: true } : {}),
    }),
  settings: () => request('GET', '/api/settings/backup'),
  saveSettings: (settings) => request('PUT', '/api/settings/backup', settings),
  previewSettings: (settings) => request('PUT', '/api/settings/backup?dry_run=true', settings),
  testOffsite: (offsite) => request('POST', '/api/settings/offsite/test', { offsite }),
};

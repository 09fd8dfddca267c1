// api: the daemon's REST API (docs/api.md) over fetch. Adds the token,
// sends and reads JSON, and turns every refusal into an ApiError that
// carries the server's own words (error.message) and code.

const TOKEN_KEY = 'haul.token';

let token = '';
try {
  token = localStorage.getItem(TOKEN_KEY) || '';
} catch {
  token = '';
}

export function getToken() {
  return token;
}

// setToken("") forgets the token.
export function setToken(t) {
  token = String(t || '').trim();
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* private mode: keep it for this page only */
  }
}

// status 0 means the daemon did not answer at all (code "unreachable").
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
  }

  get isAuth() {
    return this.status === 401 || this.status === 403;
  }

  get isUnreachable() {
    return this.status === 0;
  }
}

// withToken("/api/jobs/x/file") -> the same path with ?access_token=… when a
// token is set: for links, <video src> and EventSource, which cannot send
// an Authorization header.
export function withToken(path) {
  if (!token) return path;
  return `${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
}

const authListeners = new Set();

// onAuthError(fn): fn(apiError) runs on every 401/403 answer.
export function onAuthError(fn) {
  authListeners.add(fn);
}

// request(method, path, body?) -> the parsed JSON answer; throws ApiError.
// A daemon that does not answer within timeoutMs is "unreachable" too.
export async function request(method, path, body, { timeoutMs = 30000 } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const init = { method, headers, cache: 'no-store', signal: ctl.signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  let text;
  try {
    res = await fetch(path, init);
    text = await res.text();
  } catch {
    throw ctl.signal.aborted
      ? new ApiError(0, 'unreachable', `the daemon did not answer within ${Math.round(timeoutMs / 1000)} s`)
      : new ApiError(0, 'unreachable', 'the daemon does not answer (is haul serve running?)');
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && data.error && typeof data.error === 'object' ? data.error : null;
    const e = new ApiError(
      res.status,
      err && err.code ? String(err.code) : `http_${res.status}`,
      err && err.message ? String(err.message) : `the daemon answered ${res.status} ${res.statusText}`.trim(),
      err && err.field,
    );
    if (e.isAuth) for (const fn of authListeners) fn(e);
    throw e;
  }
  if (data === null && text) {
    throw new ApiError(res.status, 'not_json', `the answer to ${method} ${path} is not JSON`);
  }
  return data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

const jobPath = (id) => `/api/jobs/${encodeURIComponent(id)}`;

export function createJob(body) {
  return post('/api/jobs', body);
}

// jobAction(id, "pause"|"resume"|"cancel"|"retry") -> the job in its new state.
export function jobAction(id, action) {
  return post(`${jobPath(id)}/${action}`);
}

export function removeJob(id, deleteFile) {
  return del(`${jobPath(id)}${deleteFile ? '?delete_file=1' : ''}`);
}

export function bulk(action, ids, deleteFiles) {
  const body = { action, ids };
  if (action === 'delete' && deleteFiles) body.delete_files = true;
  return post('/api/jobs/bulk', body);
}

export function clean(states) {
  return post('/api/jobs/clean', { states });
}

export function stats() {
  return get('/api/stats');
}

export function fileUrl(id) {
  return withToken(`${jobPath(id)}/file`);
}

// listAllJobs(onPage?) -> every job, newest first, following next_cursor
// page by page; onPage(jobsSoFar) after each page. The first page is small
// so that a long list starts to show at once.
export async function listAllJobs(onPage) {
  const jobs = [];
  let cursor = null;
  for (let page = 0; page < 100000; page++) {
    const limit = page === 0 ? 200 : 1000;
    const q = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await get(`/api/jobs?limit=${limit}${q}`);
    if (!res || !Array.isArray(res.jobs)) throw new ApiError(200, 'bad_answer', 'the job list has no "jobs" array');
    for (const j of res.jobs) jobs.push(j);
    if (res.next_cursor === null || res.next_cursor === undefined || res.jobs.length === 0) break;
    if (onPage) onPage(jobs);
    cursor = res.next_cursor;
  }
  return jobs;
}

// healthy() -> true when /healthz answers 200 within timeoutMs.
export async function healthy(timeoutMs = 3000) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch('/healthz', { cache: 'no-store', signal: ctl.signal });
    return res.ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

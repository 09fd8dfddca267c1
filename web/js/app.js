// app: wires the page together. The daemon is the source of truth: on
// every (re)connection of the event feed the whole list is read again, and
// the events keep it current; every change is drawn at the next animation
// frame, once.

import * as api from './api.js';
import { AddForm } from './add_form.js';
import { confirmRemove, play } from './dialogs.js';
import { EventFeed } from './events.js';
import { displayName, GROUPS, JobsView, mediaKind, STATES } from './jobs_view.js';
import { StatsView } from './stats_view.js';
import { JobStore } from './store.js';

const $ = (id) => document.getElementById(id);

const store = new JobStore();
const view = new JobsView({
  list: $('jobs'),
  template: $('job-row-template'),
  actionsTemplate: $('job-actions-template'),
  store,
});
const statsView = new StatsView($('stats'), $('guard-banner'));
let loaded = false; // the list has been read whole at least once
let listNote = 'loading…'; // the summary until it is

// ---- drawing: one render per animation frame ----

let frame = 0;
function schedule() {
  if (!frame) frame = requestAnimationFrame(renderNow);
}

function renderNow() {
  frame = 0;
  if (view.render()) schedule(); // more rows to make at the next frame
  refreshChrome();
}

store.onChange(schedule);

const filterSelect = $('filter-state');
const filterLabels = new Map();
for (const opt of filterSelect.options) filterLabels.set(opt.value, opt.textContent);

// refreshChrome(): what sits around the list: counts, the summary, the
// "select all" box and the bulk bar.
function refreshChrome() {
  const total = store.size;
  const counts = store.countByState();
  for (const opt of filterSelect.options) {
    const v = opt.value;
    let n = total;
    if (GROUPS[v]) n = GROUPS[v].reduce((a, s) => a + counts[s], 0);
    else if (STATES.includes(v)) n = counts[v];
    const label = `${filterLabels.get(v)} (${n})`;
    if (opt.textContent !== label) opt.textContent = label;
  }
  let summary;
  if (!loaded) summary = listNote;
  else if (view.filtering()) summary = `${view.visible.length} of ${total} shown`;
  else summary = `${total} job${total === 1 ? '' : 's'}`;
  const sumEl = $('list-summary');
  if (sumEl.textContent !== summary) sumEl.textContent = summary;
  $('empty').hidden = !loaded || total > 0;
  const all = $('select-all');
  const st = view.selectionState();
  all.checked = st === 'all' && view.visible.length > 0;
  all.indeterminate = st === 'some';
  all.disabled = view.visible.length === 0;
  const n = view.selected.size;
  $('bulk-bar').hidden = n === 0;
  $('bulk-count').textContent = `${n} selected`;
}

// ---- notices: the answers to actions, in the server's words ----

let noticeTimer = 0;
function notice(message, kind = 'info') {
  const el = $('notice');
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    el.hidden = true;
  }, kind === 'error' ? 15000 : 6000);
}

function failed(e) {
  if (e && e.isUnreachable) feed.markDown();
  if (e && e.isAuth) return; // the token panel says it
  notice(e && e.message ? e.message : String(e), 'error');
}

// ---- the connection: token check, event feed, full reload ----

const feed = new EventFeed({
  onOpen: resync,
  onJob: (job) => store.upsert(job),
  onRemoved: (id) => store.remove(id),
  onStats: (s) => statsView.update(s),
  onDown: () => {
    $('offline-banner').hidden = false;
  },
  onUp: () => {
    $('offline-banner').hidden = true;
  },
  reconnect: connect,
});

// connect(): the feed and the stats at once (the feed's opening reads the
// list); a 401/403 on the stats stops the feed and asks for the token.
let connectGen = 0;
async function connect() {
  const gen = ++connectGen;
  feed.connect();
  try {
    const s = await api.stats();
    if (gen !== connectGen) return;
    statsView.update(s);
    hideTokenPanel();
  } catch (e) {
    if (gen !== connectGen) return;
    if (e.isAuth) {
      feed.stop();
      showTokenPanel(e);
    } else if (!e.isUnreachable) {
      notice(e.message, 'error');
    }
    // Unreachable: the feed fails too, and probes until the daemon is back.
  }
}

let syncGen = 0;
async function resync() {
  const gen = ++syncGen;
  store.beginSync();
  try {
    // The first time, show each page as it comes; later the old list
    // stays until the new one is whole.
    const first = !loaded;
    const jobs = await api.listAllJobs((sofar) => {
      if (first && gen === syncGen) store.replaceAll(sofar);
    });
    if (gen !== syncGen) return;
    store.endSync(jobs);
    loaded = true;
    schedule();
  } catch (e) {
    if (gen === syncGen) store.abortSync();
    failed(e);
  }
}

// ---- the token ----

function showTokenPanel(e) {
  // The list is not this daemon's to show any more (or not yet).
  if (store.size) store.replaceAll([]);
  statsView.clear();
  loaded = false;
  listNote = 'waiting for the token';
  schedule();
  const panel = $('token-panel');
  const err = $('token-error');
  const wasHidden = panel.hidden;
  panel.hidden = false;
  // 401: none was sent; 403: the one sent is wrong.
  if (e.status === 403 || api.getToken()) {
    err.textContent = e.message;
    err.hidden = false;
  } else {
    err.hidden = true;
  }
  if (wasHidden || e.status === 403) {
    const input = $('token-input');
    input.focus();
    input.select();
  }
}

function hideTokenPanel() {
  listNote = 'loading…';
  $('token-panel').hidden = true;
  $('token-error').hidden = true;
}

api.onAuthError((e) => {
  feed.stop();
  showTokenPanel(e);
});

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = $('token-input').value.trim();
  if (!v) return;
  api.setToken(v);
  $('token-input').value = '';
  view.invalidateAll(); // download links carry the token
  schedule();
  connect();
});

// ---- adding ----

new AddForm($('add-form'), {
  onCreated: (job) => {
    // The event feed brings it too; this shows it at once.
    if (!store.get(job.id)) store.upsert(job);
  },
  onUnreachable: () => feed.markDown(),
});

// ---- acting on one job ----

const pending = new Set();
const list = $('jobs');

list.addEventListener('click', async (ev) => {
  const el = ev.target.closest('[data-action]');
  if (!el || !list.contains(el)) return;
  const action = el.dataset.action;
  if (action === 'select' || action === 'download') return; // the box and the link do it
  const row = el.closest('[data-job-id]');
  const id = row && row.dataset.jobId;
  const job = id && store.get(id);
  if (!job) return;
  const key = `${id} ${action}`;
  if (pending.has(key)) return;
  if (action === 'play') {
    play(job, mediaKind(job.filename || displayName(job)), displayName(job));
    return;
  }
  pending.add(key);
  try {
    if (action === 'remove') {
      const name = displayName(job);
      const r = await confirmRemove(`Remove “${name}” from the list?`, job.state === 'done');
      if (!r.remove) return;
      const res = await api.removeJob(id, r.deleteFile);
      keepFocusNear(row);
      store.remove(id);
      notice(res && res.file_deleted ? `removed ${name} and its file` : `removed ${name}`);
    } else {
      const before = store.updateCount(id);
      const updated = await api.jobAction(id, action);
      // An event that came in meanwhile is as new as this answer, or newer.
      if (store.updateCount(id) === before) store.upsert(updated);
    }
  } catch (e) {
    failed(e);
  } finally {
    pending.delete(key);
  }
});

// keepFocusNear(row): the row is about to go; once it has, the keyboard
// continues on the next row (or the previous one, or the list's title).
function keepFocusNear(row) {
  const near = [row.nextElementSibling, row.previousElementSibling];
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (document.activeElement && document.activeElement !== document.body) return;
    for (const r of near) {
      const b = r && r.isConnected && r.querySelector('.job-actions > *');
      if (b) {
        b.focus();
        return;
      }
    }
    $('jobs-title').focus();
  }));
}

list.addEventListener('change', (ev) => {
  const box = ev.target;
  if (!box.matches('.job-select')) return;
  const row = box.closest('[data-job-id]');
  if (!row) return;
  view.setSelected(row.dataset.jobId, box.checked);
  refreshChrome();
});

// ---- selection and bulk actions ----

$('select-all').addEventListener('change', (ev) => {
  view.selectVisible(ev.target.checked);
  refreshChrome();
});

$('bulk-clear').addEventListener('click', () => {
  view.clearSelection();
  refreshChrome();
});

const DONE_WORDS = { pause: 'paused', resume: 'resumed', retry: 'retried', cancel: 'canceled', delete: 'removed' };

$('bulk-bar').addEventListener('click', async (ev) => {
  const b = ev.target.closest('[data-bulk]');
  if (!b) return;
  const action = b.dataset.bulk;
  const ids = Array.from(view.selected).filter((id) => store.get(id));
  if (ids.length === 0) return;
  let deleteFiles = false;
  if (action === 'delete') {
    const anyDone = ids.some((id) => store.get(id).state === 'done');
    const r = await confirmRemove(`Remove ${ids.length} selected job${ids.length === 1 ? '' : 's'} from the list?`, anyDone);
    if (!r.remove) return;
    deleteFiles = r.deleteFile;
  }
  try {
    const res = await api.bulk(action, ids, deleteFiles);
    const n = res.affected ?? 0;
    const skipped = res.skipped ? ` (${res.skipped} skipped: not in a state that allows it)` : '';
    notice(`${n} job${n === 1 ? '' : 's'} ${DONE_WORDS[action]}${skipped}`);
    if (action === 'delete') view.clearSelection();
    refreshChrome();
  } catch (e) {
    failed(e);
  }
});

// "Clear finished": done, failed and canceled jobs leave the list, like
// `haul clean` (their files stay on the disk).
const FINISHED = ['done', 'failed', 'canceled'];
$('clean-finished').addEventListener('click', async () => {
  try {
    const res = await api.clean(FINISHED);
    const n = res.removed ?? 0;
    notice(n ? `cleared ${n} finished job${n === 1 ? '' : 's'} from the list (the files stay)` : 'no finished jobs to clear');
  } catch (e) {
    failed(e);
  }
});

// ---- filter and search (client-side) ----

const search = $('search');
function applyFilter() {
  view.setFilter(filterSelect.value, search.value);
  schedule();
}
filterSelect.addEventListener('change', applyFilter);
search.addEventListener('input', applyFilter);

document.addEventListener('keydown', (ev) => {
  if (ev.key !== '/' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (t && t.isContentEditable) return;
  ev.preventDefault();
  search.focus();
});

// Ages ("5 min ago") move on by themselves.
setInterval(() => {
  view.invalidateAll();
  schedule();
}, 15000);

// For the browser tests and for curious people in the console.
window.haul = { store, view, feed, render: schedule };

schedule();
connect();

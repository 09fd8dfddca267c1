// jobs_view: the list of jobs. One <li> per job, keyed by id, built once
// from the row <template> and then updated in place: only the fields that
// changed are written (each row remembers what it shows). render() runs at
// most once per animation frame (the app schedules it) and touches only
// the rows whose job changed, unless the set, the order or the filter did.
// Every string from the network goes through textContent or an attribute.

import { fileUrl } from './api.js';
import { formatAge, formatBytes, formatClock, formatEta, formatSpeed } from './format.js';

// Rendering many rows: the first FIRST_ROWS (a screenful and more) in one
// frame, then the others in slices of about SLICE_MS, one per frame.
const FIRST_ROWS = 60;
const SLICE_MS = 120;

export const STATES = ['queued', 'running', 'paused', 'done', 'failed', 'canceled'];

// The actions a state allows (docs/api.md, "States"); remove works on all.
const ACTIONS = {
  queued: ['pause', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  done: ['download', 'play'],
  failed: ['retry'],
  canceled: ['retry'],
};

const VIDEO_EXT = new Set(['mp4', 'm4v', 'webm', 'mkv', 'mov', 'ogv']);
const AUDIO_EXT = new Set(['mp3', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'wav', 'flac']);

// mediaKind("show/ep1.mp4") -> "video", "a.mp3" -> "audio", else null.
// MPEG-TS (.ts) is left out: browsers do not play it without a demuxer.
export function mediaKind(name) {
  const m = /\.([a-z0-9]+)$/i.exec(name || '');
  if (!m) return null;
  const ext = m[1].toLowerCase();
  if (VIDEO_EXT.has(ext)) return 'video';
  if (AUDIO_EXT.has(ext)) return 'audio';
  return null;
}

function basename(path) {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

// displayName(job): the file's name once known, else the name asked for,
// else the title, else the URL.
export function displayName(job) {
  if (job.filename) return basename(job.filename);
  if (job.options && job.options.filename) return job.options.filename;
  return job.title || job.url || job.id;
}

// The filter's groups besides "all" and the single states.
export const GROUPS = {
  active: ['queued', 'running', 'paused'],
  finished: ['done', 'failed', 'canceled'],
};

export class JobsView {
  // list: the <ul>; template: the row <template>; store: a JobStore.
  // actionsTemplate: one of each action button, cloned into a row as its
  // state needs them.
  constructor({ list, template, actionsTemplate, store }) {
    this.list = list;
    // Imported once into this document (cloning from the inert template
    // document would adopt every node of every row), without the
    // whitespace between the tags.
    this.proto = stripBlanks(document.importNode(template.content.firstElementChild, true));
    this.actionProtos = {};
    for (const b of document.importNode(actionsTemplate.content, true).children) {
      this.actionProtos[b.dataset.action] = stripBlanks(b);
    }
    this.store = store;
    this.rows = new Map(); // id -> {el, refs, c (what it shows), job}
    this.visible = [];
    this.filterState = 'all';
    this.query = '';
    this.filterChanged = true;
    this.allDirty = false;
    this.selected = new Set();
    this.metrics = { renders: 0, lastMs: 0, fills: [] };
    this.fill = null;
    this.partial = false;
  }

  // setFilter(state, query): state is "all", a group or a state; query is
  // matched against the name, the URL and the id (case-insensitive).
  setFilter(state, query) {
    const q = String(query || '').trim().toLowerCase();
    if (state === this.filterState && q === this.query) return;
    this.filterState = state;
    this.query = q;
    this.filterChanged = true;
  }

  // invalidateAll(): every shown row is rewritten where it differs (the
  // token changed, or the ages need a refresh).
  invalidateAll() {
    this.allDirty = true;
  }

  filtering() {
    return this.filterState !== 'all' || this.query !== '';
  }

  matches(job) {
    const f = this.filterState;
    if (f !== 'all') {
      if (GROUPS[f] ? !GROUPS[f].includes(job.state) : job.state !== f) return false;
    }
    if (this.query) {
      const hay = `${displayName(job)}\n${job.title || ''}\n${job.filename || ''}\n${job.url || ''}\n${job.id}`;
      if (!hay.toLowerCase().includes(this.query)) return false;
    }
    return true;
  }

  computeVisible() {
    const ids = this.store.ordered();
    if (!this.filtering()) return ids.slice();
    return ids.filter((id) => this.matches(this.store.get(id)));
  }

  // render(): brings the DOM up to date with the store. Making many rows
  // at once (the first load of 2,000 jobs) is cut into slices: the first
  // FIRST_ROWS rows (more than a screen) are painted at once, then as many
  // as fit in SLICE_MS per frame. Returns true when there is more to do:
  // the caller renders again at the next frame.
  render(now = Date.now()) {
    const t0 = performance.now();
    const { ids, structure } = this.store.takeChanges();
    for (const id of ids) {
      if (this.store.get(id)) continue;
      const row = this.rows.get(id);
      if (row) {
        row.el.remove();
        this.rows.delete(id);
      }
      this.selected.delete(id);
    }
    const recompute = structure || this.filterChanged || (this.filtering() && ids.size > 0);
    const all = this.allDirty;
    this.allDirty = false;
    let created = 0;
    let complete = true;
    if (recompute || all || this.partial) {
      if (recompute) {
        this.visible = this.computeVisible();
        this.filterChanged = false;
      }
      let frag = null;
      let cursor = this.list.firstChild;
      for (const id of this.visible) {
        const job = this.store.get(id);
        let row = this.rows.get(id);
        if (!row) {
          if (created >= FIRST_ROWS && (!this.partial || performance.now() - t0 > SLICE_MS)) {
            complete = false;
            break;
          }
          row = this.createRow(id);
          created++;
        }
        if (row.job !== job || all) this.update(row, job, now);
        // Keyed reconciliation: rows already in place stay where they are
        // (no focus loss); new or moved ones are inserted before the cursor,
        // a run of detached rows through one fragment.
        if (row.el === cursor) {
          if (frag) {
            this.list.insertBefore(frag, cursor);
            frag = null;
          }
          cursor = cursor.nextSibling;
        } else if (!row.el.parentNode) {
          if (!frag) frag = document.createDocumentFragment();
          frag.appendChild(row.el);
        } else {
          if (frag) {
            this.list.insertBefore(frag, cursor);
            frag = null;
          }
          this.list.insertBefore(row.el, cursor);
        }
      }
      if (frag) this.list.insertBefore(frag, cursor);
      if (complete) {
        while (cursor) {
          const next = cursor.nextSibling;
          cursor.remove();
          cursor = next;
        }
      } else if (all) {
        this.allDirty = true; // the rows not reached yet
      }
      this.partial = !complete;
    } else if (ids.size > 0) {
      for (const id of ids) {
        const row = this.rows.get(id);
        const job = this.store.get(id);
        if (row && job && row.job !== job) this.update(row, job, now);
      }
    }
    this.measure(t0, created, complete);
    return !complete;
  }

  // measure(): how long the rows took to appear (window.haul.view.metrics,
  // read by the browser tests). A fill starts with the first render that
  // makes rows and ends with the render that completes the list.
  measure(t0, created, complete) {
    const m = this.metrics;
    const ms = performance.now() - t0;
    m.renders++;
    m.lastMs = ms;
    if (created > 0 && !this.fill) {
      const fill = { start: t0, rows: 0, slices: 0, firstMs: ms, firstFrameMs: null, doneMs: null, doneFrameMs: null, workMs: 0 };
      this.fill = fill;
      // The next frame starts after this one's style, layout and paint.
      requestAnimationFrame(() => {
        fill.firstFrameMs = performance.now() - fill.start;
      });
    }
    const fill = this.fill;
    if (!fill) return;
    fill.rows += created;
    fill.slices++;
    fill.workMs += ms;
    if (complete) {
      this.fill = null;
      fill.doneMs = performance.now() - fill.start;
      fill.visible = this.visible.length;
      m.fills.push(fill);
      if (m.fills.length > 20) m.fills.shift();
      requestAnimationFrame(() => {
        fill.doneFrameMs = performance.now() - fill.start;
      });
    }
  }

  createRow(id) {
    const el = this.proto.cloneNode(true);
    el.dataset.jobId = id;
    // The row's shape is fixed (index.html): walk it instead of searching.
    const select = el.firstElementChild;
    const main = select.nextElementSibling;
    const head = main.firstElementChild;
    const url = head.nextElementSibling;
    const prog = url.nextElementSibling;
    const meta = prog.nextElementSibling;
    const error = meta.nextElementSibling;
    const badge = head.firstElementChild;
    const name = badge.nextElementSibling;
    const bar = prog.firstElementChild;
    const bytes = meta.firstElementChild;
    const speed = bytes.nextElementSibling;
    const eta = speed.nextElementSibling;
    const age = eta.nextElementSibling;
    const refs = {
      select,
      badge,
      name,
      url,
      bar,
      fill: bar.firstElementChild,
      pct: bar.nextElementSibling,
      bytes,
      speed,
      eta,
      age,
      error,
      actionsBox: main.nextElementSibling,
      actions: {},
    };
    const nameId = `job-name-${id}`;
    name.id = nameId;
    select.setAttribute('aria-labelledby', nameId);
    bar.setAttribute('aria-labelledby', nameId);
    refs.actionsBox.setAttribute('aria-labelledby', nameId);
    // What the template already shows, so that a new row writes only what
    // differs from it.
    const c = { pv: 0, pct: '', bytes: '', speed: '', eta: '', err: '' };
    const row = { el, refs, c, job: null, nameId };
    this.rows.set(id, row);
    return row;
  }

  // setActions(row, names): the row's buttons, in this order.
  setActions(row, names) {
    const actions = {};
    const nodes = names.map((n) => {
      const b = this.actionProtos[n].cloneNode(true);
      actions[n] = b;
      return b;
    });
    row.refs.actions = actions;
    row.refs.actionsBox.replaceChildren(...nodes);
  }

  update(row, job, now) {
    const { refs, c } = row;
    const el = row.el;
    row.job = job;
    const hadFocus = el.contains(document.activeElement);
    const state = job.state;
    if (c.state !== state) {
      c.state = state;
      el.dataset.state = state;
      refs.badge.textContent = state;
    }
    const name = displayName(job);
    setText(c, 'name', refs.name, name);
    setText(c, 'url', refs.url, job.url || '');
    if (c.urlTitle !== job.url) {
      c.urlTitle = job.url;
      refs.url.title = job.url || '';
    }

    let pct = null;
    if (state === 'done') pct = 100;
    else if (job.bytes_total > 0) pct = Math.min(100, (job.bytes_done * 100) / job.bytes_total);
    const pv = pct === null ? (state === 'running' ? 'indeterminate' : 0) : Math.round(pct * 10) / 10;
    if (c.pv !== pv) {
      const wasIndeterminate = c.pv === 'indeterminate';
      c.pv = pv;
      if (pv === 'indeterminate') {
        refs.bar.classList.add('indeterminate');
        refs.bar.removeAttribute('aria-valuenow');
      } else {
        if (wasIndeterminate) refs.bar.classList.remove('indeterminate');
        refs.bar.setAttribute('aria-valuenow', String(pv));
        // CSSOM, not a style attribute: the page's CSP allows only this.
        refs.fill.style.transform = `scaleX(${pv / 100})`;
      }
    }
    setText(c, 'pct', refs.pct, pct === null ? '' : `${Math.floor(pct)}%`);

    let bytes = '';
    if (state === 'done') bytes = formatBytes(Math.max(job.bytes_total, job.bytes_done, 0));
    else if (job.bytes_total > 0) bytes = `${formatBytes(job.bytes_done)} of ${formatBytes(job.bytes_total)}`;
    else if (job.bytes_done > 0) bytes = formatBytes(job.bytes_done);
    setText(c, 'bytes', refs.bytes, bytes);
    const running = state === 'running';
    setText(c, 'speed', refs.speed, running ? formatSpeed(job.speed_bps) : '');
    const eta = running ? formatEta(job.eta_s) : '';
    setText(c, 'eta', refs.eta, eta ? `${eta} left` : '');
    setText(c, 'age', refs.age, formatAge(job.created_at, now));
    if (c.created !== job.created_at) {
      c.created = job.created_at;
      refs.age.dateTime = job.created_at || '';
      refs.age.title = `added ${String(job.created_at || '').replace('T', ' ').replace('Z', ' UTC')}`;
    }

    let err = '';
    if (job.error && typeof job.error === 'object') {
      err = String(job.error.message || job.error.code || '');
      if (state === 'queued' && job.retry_at) err += ` (retrying at ${formatClock(job.retry_at)})`;
    }
    if (c.err !== err) {
      c.err = err;
      refs.error.textContent = err;
      refs.error.hidden = err === '';
      refs.error.title = job.error && job.error.code ? String(job.error.code) : '';
    }

    const kind = state === 'done' ? mediaKind(job.filename || name) : null;
    const actKey = `${state} ${kind}`;
    if (c.actKey !== actKey) {
      c.actKey = actKey;
      const names = (ACTIONS[state] || []).filter((a) => a !== 'play' || kind !== null);
      names.push('remove');
      this.setActions(row, names);
      if (kind) refs.actions.play.dataset.kind = kind;
      c.href = undefined;
    }
    const dl = refs.actions.download;
    if (dl) {
      const href = fileUrl(job.id);
      if (c.href !== href) {
        c.href = href;
        dl.href = href;
      }
    }
    const sel = this.selected.has(job.id);
    if (c.sel !== sel) {
      c.sel = sel;
      refs.select.checked = sel;
    }
    // A focused button that this update hid (Pause after a pause): keep the
    // keyboard in the row.
    if (hadFocus && !el.contains(document.activeElement)) this.focusRow(job.id);
  }

  // focusRow(id): the first action shown in the row gets the focus.
  focusRow(id) {
    const row = this.rows.get(id);
    if (!row) return;
    const b = row.refs.actionsBox.firstElementChild;
    if (b) b.focus();
  }

  // reset(): forget every row and build the list again at the next render
  // (the browser tests time this: the cost of showing every job at once).
  reset() {
    this.rows.clear();
    this.list.replaceChildren();
    this.filterChanged = true;
    this.fill = null;
  }

  // setSelected(id, on): a row's checkbox; the app redraws the bulk bar.
  setSelected(id, on) {
    if (on) this.selected.add(id);
    else this.selected.delete(id);
    const row = this.rows.get(id);
    if (row) {
      row.c.sel = on;
      row.refs.select.checked = on;
    }
  }

  // selectVisible(on): the "select all" box acts on the rows shown.
  selectVisible(on) {
    for (const id of this.visible) this.setSelected(id, on);
  }

  clearSelection() {
    for (const id of Array.from(this.selected)) this.setSelected(id, false);
  }

  // selectionState() -> "none", "some" or "all" of the shown rows.
  selectionState() {
    let n = 0;
    for (const id of this.visible) if (this.selected.has(id)) n++;
    if (n === 0) return 'none';
    return n === this.visible.length ? 'all' : 'some';
  }
}

// stripBlanks(node): node without the whitespace-only text between tags.
function stripBlanks(node) {
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  const blanks = [];
  while (walker.nextNode()) if (!walker.currentNode.data.trim()) blanks.push(walker.currentNode);
  for (const t of blanks) t.remove();
  return node;
}

function setText(c, key, el, value) {
  if (c[key] !== value) {
    c[key] = value;
    el.textContent = value;
  }
}

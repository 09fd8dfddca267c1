// store: every job the page knows, by id, newest first. The daemon is the
// truth: a full list replaces everything (replaceAll / endSync) and each
// `job` or `removed` event updates one job. Changes are recorded (which ids,
// whether the set or order changed) until the view takes them.

export class JobStore {
  constructor() {
    this.jobs = new Map(); // id -> job JSON, replaced (never mutated) on change
    this.seq = new Map(); // id -> ordering key: higher is newer
    this.nextSeq = 1;
    this.events = new Map(); // id -> how many updates arrived (see updateCount)
    this.changed = new Set();
    this.structureChanged = true;
    this.orderCache = null;
    this.syncLog = null;
    this.listeners = new Set();
  }

  // onChange(fn): fn() after every change (the app schedules a render).
  onChange(fn) {
    this.listeners.add(fn);
  }

  notify() {
    for (const fn of this.listeners) fn();
  }

  get size() {
    return this.jobs.size;
  }

  get(id) {
    return this.jobs.get(id);
  }

  // updateCount(id): grows with every update of the job; an action's answer
  // is applied only when no event came in while it was on its way.
  updateCount(id) {
    return this.events.get(id) || 0;
  }

  // ordered() -> the ids, newest first (the API's order).
  ordered() {
    if (!this.orderCache) {
      const ids = Array.from(this.jobs.keys());
      ids.sort((a, b) => this.seq.get(b) - this.seq.get(a));
      this.orderCache = ids;
    }
    return this.orderCache;
  }

  // replaceAll(list): list is newest first, as GET /api/jobs answers.
  replaceAll(list) {
    const old = this.jobs;
    this.jobs = new Map();
    this.seq = new Map();
    const n = list.length;
    const base = this.nextSeq;
    list.forEach((job, i) => {
      if (!job || typeof job.id !== 'string' || this.jobs.has(job.id)) return;
      this.jobs.set(job.id, job);
      this.seq.set(job.id, base + (n - i));
      if (old.get(job.id) !== job) this.changed.add(job.id);
    });
    this.nextSeq = base + n + 1;
    for (const id of old.keys()) if (!this.jobs.has(id)) this.changed.add(id);
    this.structureChanged = true;
    this.orderCache = null;
    this.notify();
  }

  // upsert(job): a job from an event or an action's answer.
  upsert(job) {
    if (!job || typeof job.id !== 'string') return;
    if (this.syncLog) this.syncLog.push({ job });
    this.events.set(job.id, this.updateCount(job.id) + 1);
    if (!this.jobs.has(job.id)) {
      this.seq.set(job.id, this.nextSeq++);
      this.structureChanged = true;
      this.orderCache = null;
    }
    this.jobs.set(job.id, job);
    this.changed.add(job.id);
    this.notify();
  }

  remove(id) {
    if (this.syncLog) this.syncLog.push({ removed: id });
    this.events.set(id, this.updateCount(id) + 1);
    if (!this.jobs.delete(id)) return;
    this.seq.delete(id);
    this.changed.add(id);
    this.structureChanged = true;
    this.orderCache = null;
    this.notify();
  }

  // beginSync() ... endSync(list): a full reload while events keep coming.
  // Events go on being applied, and are also recorded; the list then
  // replaces everything and the recorded events are applied again on top,
  // so an event that is newer than the list is never lost.
  beginSync() {
    this.syncLog = [];
  }

  endSync(list) {
    const log = this.syncLog || [];
    this.syncLog = null;
    const quiet = this.listeners;
    this.listeners = new Set();
    this.replaceAll(list);
    for (const e of log) {
      if (e.job) this.upsert(e.job);
      else this.remove(e.removed);
    }
    this.listeners = quiet;
    this.notify();
  }

  abortSync() {
    this.syncLog = null;
  }

  // takeChanges() -> {ids, structure}: what changed since the last call.
  takeChanges() {
    const out = { ids: this.changed, structure: this.structureChanged };
    this.changed = new Set();
    this.structureChanged = false;
    return out;
  }

  countByState() {
    const counts = { queued: 0, running: 0, paused: 0, done: 0, failed: 0, canceled: 0 };
    for (const j of this.jobs.values()) counts[j.state] = (counts[j.state] || 0) + 1;
    return counts;
  }
}

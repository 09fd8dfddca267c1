// stats_view: the header's counters (GET /api/stats and the `stats`
// events): active of at most, queued, total speed, disk free; and a note
// when the disk guard holds jobs back.

import { formatBytes, formatSpeed } from './format.js';

export class StatsView {
  constructor(root, guardBanner) {
    this.root = root;
    this.guard = guardBanner;
    this.els = {};
    for (const dd of root.querySelectorAll('[data-stat]')) this.els[dd.dataset.stat] = dd;
  }

  // clear(): "–" everywhere (the daemon asks for a token).
  clear() {
    for (const el of Object.values(this.els)) el.textContent = '–';
    this.guard.hidden = true;
  }

  update(s) {
    if (!s || typeof s !== 'object') return;
    const jobs = s.jobs || {};
    const set = (k, v) => {
      if (this.els[k] && this.els[k].textContent !== v) this.els[k].textContent = v;
    };
    const active = typeof s.active === 'number' ? s.active : jobs.running;
    set('active', s.max_active ? `${active ?? 0} of ${s.max_active}` : String(active ?? 0));
    set('queued', String(jobs.queued ?? 0));
    set('speed', formatSpeed(s.speed_bps) || '0 B/s');
    set('disk', typeof s.disk_free_bytes === 'number' ? formatBytes(s.disk_free_bytes) : '–');
    if (s.download_dir) this.els.disk.title = `free in ${s.download_dir}`;
    const holding = !!(s.disk_guard && s.disk_guard.holding);
    this.guard.hidden = !holding;
    if (holding) {
      this.guard.textContent = `The disk is nearly full: jobs wait until ${formatBytes(
        s.disk_guard.min_free_bytes,
      )} are free in ${s.download_dir || 'the download folder'}.`;
    }
  }
}

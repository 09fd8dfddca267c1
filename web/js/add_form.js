// add_form: the form that adds downloads. Each non-empty line of the URL
// box is one POST /api/jobs with the options filled in; the server's
// refusals are shown next to the form in its own words (error.message),
// each after its URL when there were several. The URLs that failed stay in
// the box so they can be fixed and sent again.

import { createJob } from './api.js';
import { parseRate } from './format.js';

export class AddForm {
  // form: the <form>; onCreated(job) for each job made; onUnreachable()
  // when the daemon did not answer.
  constructor(form, { onCreated, onUnreachable }) {
    this.form = form;
    this.onCreated = onCreated;
    this.onUnreachable = onUnreachable;
    this.urls = form.querySelector('#add-urls');
    this.filename = form.querySelector('#add-filename');
    this.dir = form.querySelector('#add-dir');
    this.mode = form.querySelector('#add-mode');
    this.format = form.querySelector('#add-format');
    this.maxSpeed = form.querySelector('#add-max-speed');
    this.record = form.querySelector('#add-record');
    this.submit = form.querySelector('#add-submit');
    this.error = form.querySelector('#add-error');
    this.status = form.querySelector('#add-status');
    this.busy = false;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    // Ctrl+Enter in the URL box sends it (Enter makes a new line).
    this.urls.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        this.send();
      }
    });
  }

  // options() -> the body fields besides url, only the ones that differ
  // from the defaults; throws an Error a person can read.
  options() {
    const o = {};
    const filename = this.filename.value.trim();
    const dir = this.dir.value.trim();
    const format = this.format.value.trim();
    if (filename) o.filename = filename;
    if (dir) o.dir = dir;
    if (this.mode.value && this.mode.value !== 'auto') o.mode = this.mode.value;
    if (format) o.format = format;
    const rate = parseRate(this.maxSpeed.value);
    if (rate) o.max_speed = rate;
    if (this.record.checked) o.record = true;
    return o;
  }

  showErrors(lines) {
    this.error.replaceChildren();
    for (const l of lines) {
      const p = document.createElement('p');
      if (l.url !== null) {
        const u = document.createElement('span');
        u.className = 'err-url';
        u.textContent = l.url;
        p.append(u, ': ');
      }
      p.append(l.message);
      this.error.append(p);
    }
    this.error.hidden = lines.length === 0;
    this.urls.setAttribute('aria-invalid', lines.length ? 'true' : 'false');
  }

  async send() {
    if (this.busy) return;
    const urls = this.urls.value
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (urls.length === 0) {
      this.showErrors([{ url: null, message: 'paste one URL or more, one per line' }]);
      this.urls.focus();
      return;
    }
    let opts;
    try {
      opts = this.options();
    } catch (e) {
      this.showErrors([{ url: null, message: e.message }]);
      this.maxSpeed.focus();
      return;
    }
    this.busy = true;
    this.submit.disabled = true;
    this.status.textContent = urls.length > 1 ? `adding ${urls.length} downloads…` : 'adding…';
    const errors = [];
    const failed = [];
    let added = 0;
    // One request at a time keeps the jobs in the order they were pasted.
    for (const url of urls) {
      try {
        const job = await createJob({ url, ...opts });
        added++;
        this.onCreated(job);
      } catch (e) {
        if (e.isUnreachable) this.onUnreachable();
        errors.push({ url: urls.length > 1 ? url : null, message: e.message });
        failed.push(url);
      }
    }
    this.busy = false;
    this.submit.disabled = false;
    this.showErrors(errors);
    this.urls.value = failed.join('\n');
    if (added === 0) this.status.textContent = '';
    else this.status.textContent = `added ${added} download${added === 1 ? '' : 's'}${failed.length ? `, ${failed.length} refused` : ''}`;
    if (failed.length) this.urls.focus();
  }
}

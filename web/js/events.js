// events: the live feed, an EventSource on /api/events (the token goes in
// ?access_token=, EventSource cannot send headers). On every (re)connect
// the app re-reads the whole list (onOpen). It also watches the daemon: an
// error on the feed, or a failed /healthz probe every few seconds while
// connected, closes the feed and probes until the daemon answers again;
// onDown/onUp show and hide the offline banner.

import { healthy, withToken } from './api.js';

const PROBE_EVERY_MS = 5000; // while connected
const RETRY_EVERY_MS = 1500; // while not

export class EventFeed {
  // handlers: onOpen(), onJob(job), onRemoved(id), onStats(stats),
  // onDown(), onUp(), reconnect() (the app checks the token, then calls
  // connect() again).
  constructor(handlers) {
    this.h = handlers;
    this.es = null;
    this.connected = false;
    this.down = false;
    this.probeTimer = null;
    this.retryTimer = null;
    this.stopped = true;
    this.generation = 0;
  }

  connect() {
    this.stopped = false;
    this.closeSource();
    clearTimeout(this.retryTimer);
    const gen = ++this.generation;
    const es = new EventSource(withToken('/api/events'));
    this.es = es;
    es.addEventListener('open', () => {
      if (gen === this.generation) this.opened();
    });
    es.addEventListener('error', () => {
      if (gen === this.generation) this.lost();
    });
    es.addEventListener('job', (ev) => {
      const job = parse(ev.data);
      if (job) this.h.onJob(job);
    });
    es.addEventListener('removed', (ev) => {
      const d = parse(ev.data);
      if (d && typeof d.id === 'string') this.h.onRemoved(d.id);
    });
    es.addEventListener('stats', (ev) => {
      const d = parse(ev.data);
      if (d) this.h.onStats(d);
    });
  }

  // stop(): no feed and no probing (the page waits for a token: the
  // daemon did answer, so it is not down).
  stop() {
    this.stopped = true;
    this.generation++;
    this.closeSource();
    clearInterval(this.probeTimer);
    clearTimeout(this.retryTimer);
    this.connected = false;
    this.setDown(false);
  }

  // retryLater(): the app could not reach the daemon before connecting:
  // probe until it answers, then reconnect().
  retryLater() {
    this.stopped = false;
    this.lost();
  }

  closeSource() {
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }

  opened() {
    this.connected = true;
    this.setDown(false);
    clearInterval(this.probeTimer);
    this.probeTimer = setInterval(() => this.probe(), PROBE_EVERY_MS);
    this.h.onOpen();
  }

  async probe() {
    const gen = this.generation;
    const ok = await healthy();
    if (!ok && gen === this.generation && this.connected) this.lost();
  }

  // lost(): the feed failed (the daemon went away, the network, a 401...).
  // The browser would retry on its own only sometimes (not after an HTTP
  // error): close it and decide here.
  async lost() {
    this.generation++;
    this.closeSource();
    this.connected = false;
    clearInterval(this.probeTimer);
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    const gen = this.generation;
    const ok = await healthy();
    if (gen !== this.generation || this.stopped) return;
    if (!ok) this.setDown(true);
    this.retryTimer = setTimeout(() => this.retry(gen), RETRY_EVERY_MS);
  }

  async retry(gen) {
    if (gen !== this.generation || this.stopped) return;
    const ok = await healthy();
    if (gen !== this.generation || this.stopped) return;
    if (ok) {
      this.h.reconnect();
    } else {
      this.setDown(true);
      this.retryTimer = setTimeout(() => this.retry(gen), RETRY_EVERY_MS);
    }
  }

  // markDown(): the app saw the daemon fail to answer a request.
  markDown() {
    if (!this.connected && !this.stopped) this.setDown(true);
    else if (this.connected) this.probe();
  }

  setDown(down) {
    if (down === this.down) return;
    this.down = down;
    if (down) this.h.onDown();
    else this.h.onUp();
  }
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// format: numbers a person reads (sizes, speeds, times left, ages) and the
// one number a person types (a speed limit such as "2M"). Pure functions.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

// formatBytes(1536) -> "1.50 KiB": binary units, three significant digits,
// like the CLI ("48.0 MiB", "1.00 GiB", "421 MiB").
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${Math.round(n)} B`;
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  // 1023.9 KiB would print "1024 KiB": step up instead.
  if (v >= 999.5 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${UNITS[i]}`;
}

export function formatSpeed(bps) {
  if (typeof bps !== 'number' || !(bps > 0)) return '';
  return `${formatBytes(bps)}/s`;
}

function pad2(n) {
  return n < 10 ? `0${n}` : String(n);
}

// formatEta(75) -> "1:15", formatEta(3723) -> "1:02:03"; "" while unknown (-1).
export function formatEta(s) {
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) return '';
  s = Math.round(s);
  if (s >= 100 * 3600) return `${Math.round(s / 86400)} d`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(sec)}` : `${m}:${pad2(sec)}`;
}

// parseTime("2026-11-28T17:00:00Z") -> ms since the epoch, or NaN.
export function parseTime(iso) {
  return typeof iso === 'string' ? Date.parse(iso) : NaN;
}

// formatAge(created, now) -> "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago".
export function formatAge(iso, now = Date.now()) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// formatClock("2026-11-28T17:00:05Z") -> the local time of day, "18:00:05".
export function formatClock(iso) {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatDateTime(iso) {
  const t = parseTime(iso);
  return Number.isNaN(t) ? '' : new Date(t).toLocaleString();
}

const RATE_UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const RATE_RE = /^(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?(?:\/s|ps)?$/i;

// parseRate("2M") -> 2097152 bytes per second: K, M, G, T are binary, as in
// the CLI's --max-speed; "500K", "1.5M", "2 MiB/s", "300000" all work.
// Returns null for an empty string (no limit); throws an Error that says
// what is wrong otherwise.
export function parseRate(text) {
  const s = String(text ?? '').trim();
  if (s === '') return null;
  const m = RATE_RE.exec(s);
  if (!m) {
    throw new Error(`max speed: "${s}" is not a speed; write bytes per second such as 500K, 2M or 1048576`);
  }
  const v = Math.round(parseFloat(m[1]) * RATE_UNITS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(v)) throw new Error(`max speed: "${s}" is too large`);
  return v;
}

// Where a preview page sends its capture batches (same origin as the page).
export const INGEST_PATH = '/__overskill/ingest';

// Injected into every HTML page of a preview before any app script. It reports console calls,
// uncaught errors, unhandled rejections, fetch/XHR requests and page views in batches; it never
// reads cookies or storage beyond its own visitor id, and sends no credentials.
export const CAPTURE_SCRIPT = `(function () {
  if (window.__overskillCapture) return;
  window.__overskillCapture = true;
  var ENDPOINT = ${JSON.stringify(INGEST_PATH)};
  var MAX_QUEUE = 300, BATCH = 50, MAX_TEXT = 2000, MAX_DEPTH = 3, MAX_ITEMS = 20;
  var queue = [], seen = {}, timer = null;
  var nativeFetch = window.fetch;
  var now = function () { return new Date().toISOString(); };
  function visitor() {
    try {
      var id = localStorage.getItem('__overskill_vid');
      if (!id) { id = Math.random().toString(36).slice(2) + Date.now().toString(36); localStorage.setItem('__overskill_vid', id); }
      return id;
    } catch (e) { return 'anonymous'; }
  }
  function ser(v, depth) {
    if (v instanceof Error) return v.stack || (v.name + ': ' + v.message);
    if (typeof v === 'string') return v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) + '…' : v;
    if (v === null || typeof v !== 'object') return String(v);
    if (depth >= MAX_DEPTH) return Array.isArray(v) ? '[Array]' : '[Object]';
    try {
      if (Array.isArray(v)) return '[' + v.slice(0, MAX_ITEMS).map(function (x) { return ser(x, depth + 1); }).join(', ') + (v.length > MAX_ITEMS ? ', …' : '') + ']';
      var keys = Object.keys(v), parts = [];
      for (var i = 0; i < keys.length && i < MAX_ITEMS; i++) parts.push(keys[i] + ': ' + ser(v[keys[i]], depth + 1));
      return '{' + parts.join(', ') + (keys.length > MAX_ITEMS ? ', …' : '') + '}';
    } catch (e) { return '[unserializable]'; }
  }
  function text(args) {
    var s = Array.prototype.map.call(args, function (a) { return ser(a, 0); }).join(' ');
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '…' : s;
  }
  function send(events, beacon) {
    var body = JSON.stringify({ events: events });
    try {
      if (beacon && navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, new Blob([body], { type: 'text/plain' }))) return;
      nativeFetch.call(window, ENDPOINT, { method: 'POST', body: body, headers: { 'content-type': 'text/plain' }, credentials: 'omit', keepalive: true }).catch(function () {});
    } catch (e) { /* the page goes on */ }
  }
  function flush(beacon) {
    if (timer) { clearTimeout(timer); timer = null; }
    seen = {};
    while (queue.length) send(queue.splice(0, BATCH), beacon);
  }
  function push(e) {
    e.at = now();
    if (e.kind === 'console') {
      var key = e.level + '|' + e.message + '|' + (e.source || '');
      if (seen[key]) { seen[key].count++; return; }
      e.count = 1; seen[key] = e;
    }
    if (queue.length >= MAX_QUEUE) return;
    e.page = e.page || location.href;
    queue.push(e);
    if (!timer) timer = setTimeout(function () { timer = null; flush(false); }, 1000);
  }
  ['debug', 'log', 'info', 'warn', 'error'].forEach(function (name) {
    var original = console[name];
    console[name] = function () {
      push({ kind: 'console', level: name === 'log' ? 'info' : name, message: text(arguments) });
      return original.apply(console, arguments);
    };
  });
  window.addEventListener('error', function (ev) {
    var t = ev.target;
    if (t && t !== window && (t.src || t.href)) {
      push({ kind: 'network', method: 'GET', url: String(t.src || t.href), status: 0, durationMs: 0, error: 'failed to load ' + String(t.tagName || '').toLowerCase() });
      return;
    }
    var stack = ev.error && ev.error.stack ? String(ev.error.stack) : '';
    push({ kind: 'console', level: 'error', message: 'Uncaught ' + (stack || ev.message), source: ev.filename ? ev.filename + ':' + ev.lineno + ':' + ev.colno : '' });
  }, true);
  window.addEventListener('unhandledrejection', function (ev) {
    push({ kind: 'console', level: 'error', message: 'Unhandled rejection: ' + ser(ev.reason, 0) });
  });
  function strip(u) {
    try { var x = new URL(u, location.href); x.username = ''; x.password = ''; x.hash = ''; return x.href; } catch (e) { return String(u); }
  }
  if (nativeFetch) {
    window.fetch = function (input, init) {
      var url = strip(typeof input === 'string' ? input : (input && input.url) || String(input));
      var method = String((init && init.method) || (input && input.method) || 'GET').toUpperCase();
      var started = performance.now();
      var p = nativeFetch.apply(this, arguments);
      if (url.indexOf(ENDPOINT) !== -1) return p;
      p.then(function (res) {
        push({ kind: 'network', method: method, url: url, status: res.status, durationMs: performance.now() - started });
      }, function (err) {
        push({ kind: 'network', method: method, url: url, status: 0, durationMs: performance.now() - started, error: String((err && err.message) || err) + ' (network error or CORS)' });
      });
      return p;
    };
  }
  var open = XMLHttpRequest.prototype.open, sendXhr = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__overskill = { method: String(method || 'GET').toUpperCase(), url: strip(url) };
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var info = this.__overskill, xhr = this, started = performance.now();
    if (info) xhr.addEventListener('loadend', function () {
      push({ kind: 'network', method: info.method, url: info.url, status: xhr.status, durationMs: performance.now() - started, error: xhr.status === 0 ? 'network error or CORS' : '' });
    });
    return sendXhr.apply(this, arguments);
  };
  function pageview(loadMs) {
    push({ kind: 'pageview', path: location.pathname + location.search, visitorId: visitor(), loadMs: Math.max(0, loadMs) });
  }
  window.addEventListener('load', function () {
    setTimeout(function () {
      var nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
      pageview(nav ? nav.loadEventStart || nav.duration : performance.now());
    }, 0);
  });
  var pushState = history.pushState;
  history.pushState = function () {
    var r = pushState.apply(this, arguments);
    pageview(0);
    return r;
  };
  window.addEventListener('popstate', function () { pageview(0); });
  window.addEventListener('pagehide', function () { flush(true); });
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') flush(true); });
})();`;

const TAG = `<script data-overskill-capture>${CAPTURE_SCRIPT}</script>`;

// Right after <head> (or <html>, or the doctype), so it runs before any script of the app.
export function injectCapture(html: string): string {
  for (const pattern of [/<head(\s[^>]*)?>/i, /<html(\s[^>]*)?>/i, /<!doctype[^>]*>/i]) {
    const match = pattern.exec(html);
    if (match) return html.slice(0, match.index + match[0].length) + TAG + html.slice(match.index + match[0].length);
  }
  return TAG + html;
}

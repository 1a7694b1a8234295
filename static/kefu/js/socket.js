/* Kefu's one reconnecting websocket (every live page uses it). Plain script, no build.
 *
 *   var sock = KefuSocket.connect(root.dataset.socket, {
 *     onopen:   function () { sock.send({type: "hello", ...}); },  // after every (re)connect
 *     onframe:  function (frame) { ... },                          // each JSON frame
 *     onstatus: function (status, code) { ... },  // "connecting" | "live" | "retrying" |
 *                                                 // "denied" | "closed"
 *   });
 *   sock.send({type: "sync", after_seq: 4});   // false when not connected (keep it queued)
 *   sock.close();                              // clean close, no reconnect
 *   sock.retry();                              // after "denied": try again (with backoff)
 *
 * Close codes (docs/realtime.md): 4401 not signed in (or no hello), 4403 not allowed, and
 * any other 44xx: the server said no — do not reconnect, tell the page ("denied"). 1000: a
 * normal end — do not reconnect ("closed"). Anything else (1006 network, 1011, 1012
 * restart, ...) reconnects with exponential backoff, jittered, capped. A connection that
 * closes right after opening keeps backing off instead of starting again from the floor.
 * (A consumer that refuses before accepting the handshake gives the browser HTTP 403, which
 * it reports as 1006, not 44xx: only a close after accept reaches the page as "denied".)
 */
(function (global) {
  "use strict";

  var DEFAULTS = { minDelay: 1000, maxDelay: 15000, stableAfter: 5000 };

  // What to do when a socket closed with `code`: "retry", "denied" or "closed".
  function policy(code) {
    if (code >= 4400 && code <= 4499) return "denied";
    if (code === 1000) return "closed";
    return "retry";
  }

  // The wait before reconnect attempt `attempt` (0, 1, 2, ...): the exponential step,
  // capped, then "equal jitter" — a random point in its upper half — so that a server
  // restart is not met by every client at the same instant.
  function backoff(attempt, opts, random) {
    opts = opts || DEFAULTS;
    var step = Math.min(opts.maxDelay, opts.minDelay * Math.pow(2, Math.min(attempt, 30)));
    return Math.round(step / 2 + (random || Math.random)() * step / 2);
  }

  function absolute(path) {
    if (/^wss?:\/\//.test(path)) return path;
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function connect(path, options) {
    var opts = {};
    Object.keys(DEFAULTS).forEach(function (k) { opts[k] = DEFAULTS[k]; });
    Object.keys(options || {}).forEach(function (k) { opts[k] = options[k]; });
    var url = absolute(path);
    var ws = null, timer = null, attempt = 0, openedAt = 0, stopped = false;

    function status(name, code) { if (opts.onstatus) opts.onstatus(name, code); }

    function open() {
      clearTimeout(timer); timer = null;
      if (stopped) return;
      status("connecting");
      var sock = ws = new WebSocket(url);
      sock.onopen = function () {
        if (sock !== ws) return;
        openedAt = Date.now();
        status("live");
        if (opts.onopen) opts.onopen(api);
      };
      sock.onmessage = function (e) {
        if (sock !== ws || typeof e.data !== "string") return;
        var frame;
        try { frame = JSON.parse(e.data); } catch (err) { return; }
        if (frame && typeof frame === "object" && opts.onframe) opts.onframe(frame);
      };
      sock.onclose = function (e) {
        if (sock !== ws) return;
        ws = null;
        if (openedAt && Date.now() - openedAt >= opts.stableAfter) attempt = 0;
        openedAt = 0;
        if (stopped) return;
        var next = policy(e.code);
        if (next === "retry") { schedule(); status("retrying", e.code); }
        else { status(next, e.code); }
      };
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(open, backoff(attempt, opts));
      attempt += 1;
    }

    var api = {
      url: url,
      send: function (frame) {
        if (!ws || ws.readyState !== 1) return false;
        ws.send(JSON.stringify(frame));
        return true;
      },
      isOpen: function () { return !!ws && ws.readyState === 1; },
      close: function () {
        stopped = true; clearTimeout(timer); timer = null;
        if (ws) { var old = ws; ws = null; old.close(1000); }
        status("closed", 1000);
      },
      retry: function () {
        if (ws) return;
        stopped = false; schedule(); status("retrying");
      }
    };

    // Back on the network: no need to sit out the rest of a long wait.
    global.addEventListener("online", function () {
      if (!stopped && !ws && timer) open();
    });
    open();
    return api;
  }

  global.KefuSocket = { connect: connect, policy: policy, backoff: backoff, defaults: DEFAULTS };
})(window);

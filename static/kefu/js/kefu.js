/* Kefu back office: small progressive enhancements. Pages work without this file. */
(function () {
  "use strict";

  // Selects that submit their form on change (seat state, language).
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form && event.target.tagName === "SELECT") form.submit();
  });

  // Live boards: the websocket is only a doorbell; on each ring (and after every
  // reconnect) the board is re-read over HTTP, so a missed ring costs nothing.
  function liveBoard(el) {
    var status = document.querySelector("[data-live-status]");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + el.dataset.socket;
    var delay = 1000, timer = null, pending = false;

    function refresh() {
      if (pending) return;
      pending = true;
      fetch(el.dataset.refresh, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { el.innerHTML = html; })
        .catch(function () { /* keep the last good board */ })
        .finally(function () { pending = false; });
    }
    function setStatus(live) {
      if (!status) return;
      status.textContent = live ? el.dataset.labelLive : el.dataset.labelOffline;
      status.classList.toggle("is-live", live);
    }
    function connect() {
      var ws = new WebSocket(url);
      ws.onopen = function () { delay = 1000; setStatus(true); refresh(); };
      ws.onmessage = function () { clearTimeout(timer); timer = setTimeout(refresh, 150); };
      ws.onclose = function (e) {
        setStatus(false);
        if (e.code === 4401 || e.code === 4403) return; // not allowed: do not hammer
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
    // Times in state tick even when nothing rings.
    setInterval(refresh, 30000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-board]").forEach(liveBoard);
  });
})();

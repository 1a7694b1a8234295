/* Ticket doorbell: a calm toast when one of my tickets nears or breaches its SLA, or
   changes hands. The socket carries only ids; the toast links to the ticket page. */
(function () {
  "use strict";
  var box = document.getElementById("ticket-toasts");
  if (!box || !window.WebSocket) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var delay = 1000;

  function label(frame) {
    if (frame.type === "ticket.sla") {
      return frame.kind === "breach" ? box.dataset.labelBreach : box.dataset.labelReminder;
    }
    return box.dataset.labelChanged;
  }
  function toast(frame) {
    var item = document.createElement("a");
    item.className = "toast" + (frame.kind === "breach" ? " toast-danger" : "");
    item.href = box.dataset.ticketUrl.replace("/0/", "/" + Number(frame.ticket) + "/");
    item.textContent = label(frame) + " #" + Number(frame.ticket);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, frame.type === "ticket.sla" ? 20000 : 8000);
  }
  function connect() {
    var ws = new WebSocket(scheme + location.host + box.dataset.socket);
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (e) {
      var frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      if (frame.type === "ticket.sla" || frame.type === "ticket.changed") toast(frame);
    };
    ws.onclose = function (e) {
      if (e.code === 4401 || e.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();

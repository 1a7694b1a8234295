/* The agent workbench. Protocol: docs/realtime.md (agent side).
 * Lists are re-read over HTTP whenever the socket rings `list`; messages arrive over the
 * socket for every watched conversation and go through the ordered log (KefuLog: drawn
 * once per id/seq, in seq order); after each reconnect (KefuSocket) every watched
 * conversation is caught up with `watch` + after_seq, and the outbox (unacknowledged
 * replies, kept with their client ids) is resent. URLs, texts and the attachment rules come
 * from the page (data- attributes and json_script), the exchange count from the server. */
(function () {
  "use strict";
  var root = document.querySelector("[data-workbench]");
  if (!root) return;
  var L = JSON.parse(document.getElementById("wb-labels").textContent);
  var RULES = JSON.parse(document.getElementById("wb-attachment-rules").textContent);
  var URLS = root.dataset;
  var me = +root.dataset.user;
  var $ = function (sel, el) { return (el || document).querySelector(sel); };
  var lists = { waiting: [], active: [], closed: [] };
  var convs = {};        // id -> {info, unread, watched, readSeq}
  var book = KefuLog.create({ storage: sessionStorage, key: "wb.pending" });  // messages + outbox
  var current = null;    // id on screen
  var sock = null, listTimer = null, typingTimer = null, refreshTimer = null, lastTyping = 0;
  var log = $("[data-log]"), input = $("[data-input]");

  function fmt(s, v) { return s.replace(/%\((\w+)\)[sd]/g, function (_, k) { return v[k]; }); }
  function uuid() { return (crypto.randomUUID && crypto.randomUUID()) || ("a" + Date.now().toString(36) + Math.random().toString(36).slice(2)); }
  // A URL reversed by the template with the id 0, for another id.
  function url(template, id) { var i = template.lastIndexOf("/0/"); return template.slice(0, i) + "/" + id + "/" + template.slice(i + 3); }
  function allowedFile(file) {
    var name = file.name.toLowerCase();
    return Object.keys(RULES.types).some(function (t) { return RULES.types[t].some(function (s) { return name.slice(-s.length) === s; }); });
  }
  function csrf() { var m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; }
  function span(sec) {
    sec = Math.max(0, Math.round(sec));
    var h = Math.floor(sec / 3600), m = Math.floor(sec % 3600 / 60), s = sec % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
  }
  function conv(id) { return convs[id] || (convs[id] = { info: null, unread: false }); }
  function lastSeq(id) { return book.thread(id).lastSeq; }
  function send(frame) { return !!sock && sock.send(frame); }
  function watch(id) { conv(id).watched = true; send({ type: "watch", conversation_id: id, after_seq: lastSeq(id) }); }
  var isLive = false;
  function catchUp() {
    // Only while connected: offline, the reconnect's welcome catches up instead.
    if (!isLive) return;
    listSoon();
    if (current) send({ type: "sync", conversation_id: current, after_seq: lastSeq(current) });
  }
  function name(item) { return item.customer || fmt(L.visitor, { id: item.visitor_id }); }

  // --- Session list -------------------------------------------------------------------
  function renderLists() {
    var load = $("[data-load]");
    if (load) load.textContent = lists.active.length;
    ["waiting", "active", "closed"].forEach(function (kind) {
      var ol = $('[data-list="' + kind + '"]');
      ol.textContent = "";
      var count = $('[data-count="' + kind + '"]');
      if (count) count.textContent = lists[kind].length ? "(" + lists[kind].length + ")" : "";
      if (!lists[kind].length) {
        var e = document.createElement("li"); e.className = "empty";
        e.textContent = { waiting: L.no_waiting, active: L.no_active, closed: L.no_closed }[kind];
        ol.appendChild(e); return;
      }
      lists[kind].forEach(function (item) {
        var c = conv(item.id);
        c.info = Object.assign(c.info || {}, item);
        if (kind === "active" && item.last_seq > lastSeq(item.id) && item.last_seq > item.agent_read_seq && item.id !== current) c.unread = true;
        var li = document.createElement("li");
        li.className = "wb-item" + (kind === "waiting" ? " is-waiting" : "");
        if (item.id === current) li.classList.add("is-current");
        else if (kind === "active" && c.unread) li.classList.add("is-unread");
        li.dataset.id = item.id;
        var who = document.createElement("div"); who.className = "who";
        var nm = document.createElement("span"); nm.textContent = name(item); who.appendChild(nm);
        if (kind === "waiting") {
          var b = document.createElement("button"); b.type = "button"; b.textContent = L.accept; b.dataset.accept = item.id;
          who.appendChild(b);
        }
        li.appendChild(who);
        var sub = document.createElement("div"); sub.className = "sub";
        // Waiting: how long; active and closed: the last thing said (the channel on hover).
        sub.textContent = kind === "waiting"
          ? item.channel + " · " + fmt(L.waiting_for, { t: span((Date.now() - Date.parse(item.created_at)) / 1000) })
          : (item.last_text || item.channel);
        li.title = item.channel + " · " + item.group;
        li.appendChild(sub);
        ol.appendChild(li);
      });
    });
  }

  function loadLists() {
    return fetch(root.dataset.listsUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        lists = data;
        renderLists();  // (first: it marks unread against what we held)
        // Watch every active conversation so new customer messages turn its row grey.
        // Their history is not needed until opened: watch from their last seq on.
        data.active.forEach(function (item) {
          if (!conv(item.id).watched) { if (item.id !== current) book.thread(item.id).startAfter(item.last_seq); watch(item.id); }
        });
        if (current) showHeader();
      });
  }
  // A failed re-read keeps the lists shown; the next ring, reconnect or catch-up reads again.
  function listSoon() { clearTimeout(listTimer); listTimer = setTimeout(function () { loadLists().catch(function () {}); }, 150); }

  // --- Conversation -------------------------------------------------------------------
  function drawMessage(m) {
    if (log.querySelector('[data-id="' + m.id + '"]')) return;
    var p = m.client_id && log.querySelector('[data-pending="' + CSS.escape(m.client_id) + '"]');
    if (p) p.remove();
    var li = document.createElement("li");
    li.className = "wb-msg from-" + m.sender; li.dataset.id = m.id; li.dataset.seq = m.seq;
    if (m.text) li.appendChild(document.createTextNode(m.text));
    if (m.attachment) {
      var a = m.attachment;
      if (a.is_image) { var img = document.createElement("img"); img.src = a.url; img.alt = a.name; img.loading = "lazy"; li.appendChild(img); }
      else { var link = document.createElement("a"); link.href = a.url; link.textContent = "📎 " + a.name; li.appendChild(link); }
    }
    var meta = document.createElement("div"); meta.className = "meta";
    meta.textContent = (m.sender === "agent" ? (m.agent_name || L.you) + " · " : "") + new Date(m.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    li.appendChild(meta);
    // Before the first later message on screen (the log keeps them ordered by seq).
    var after = book.next(m), next = null;
    while (after && !(next = log.querySelector('[data-id="' + after.id + '"]'))) after = book.next(after);
    log.insertBefore(li, next || log.querySelector("[data-pending]"));
    log.scrollTop = log.scrollHeight;
  }
  function drawPending(cid, text) {
    if (log.querySelector('[data-pending="' + CSS.escape(cid) + '"]')) return;
    var li = document.createElement("li"); li.className = "wb-msg from-agent is-pending"; li.dataset.pending = cid;
    li.appendChild(document.createTextNode(text));
    var meta = document.createElement("div"); meta.className = "meta"; meta.textContent = L.sending; li.appendChild(meta);
    log.appendChild(li); log.scrollTop = log.scrollHeight;
  }
  function addMessage(m) {
    var c = conv(m.conversation_id);
    if (!book.add(m)) return;
    ["active", "closed"].forEach(function (k) {
      lists[k].forEach(function (item) { if (item.id === m.conversation_id && m.text && m.seq >= item.last_seq) { item.last_text = m.text.slice(0, 80); item.last_seq = m.seq; } });
    });
    if (m.conversation_id === current) { drawMessage(m); markRead(); renderLists(); refreshSoon(); }
    else { if (m.sender === "customer") c.unread = true; renderLists(); }
  }
  function markRead() {
    var c = convs[current];
    var seq = current ? lastSeq(current) : 0;
    if (c && c.info && c.info.agent_id === me && !document.hidden && seq > (c.readSeq || 0)) {
      c.readSeq = seq; send({ type: "read", conversation_id: current, seq: seq });
    }
    if (c) c.unread = false;
  }

  function showHeader() {
    var c = convs[current]; if (!c || !c.info) return;
    var i = c.info;
    $("[data-title]").textContent = name(i);
    $("[data-status]").textContent = L["status_" + i.status];
    $("[data-sub]").textContent = i.channel + " · " + i.group + (i.rating ? " · " + fmt(L.rated, { n: i.rating }) : "");
    $('[data-action="accept"]').hidden = i.status !== "queued";
    $('[data-action="transfer"]').hidden = i.status === "closed";
    $('[data-action="close"]').hidden = i.status === "closed";
    var so = $("[data-so-link]");
    if (i.service_order_id) { so.hidden = false; so.href = url(URLS.serviceOrderUrl, i.service_order_id); }
    var tk = $("[data-ticket-link]");
    if (tk) { tk.hidden = !i.service_order_id; if (i.service_order_id) tk.href = url(URLS.ticketFromChatUrl, i.service_order_id); }
    var note = $("[data-note]"), compose = $("[data-compose]");
    var mine = i.status === "active" && i.agent_id === me;
    compose.hidden = !mine;
    note.hidden = mine;
    note.textContent = i.status === "closed" ? L.closed_note : (i.status === "active" ? L.not_yours : "");
    if (!note.textContent) note.hidden = true;
    showSignals();
  }
  function showSignals() {
    var c = convs[current]; if (!c || !c.info) return;
    var i = c.info, now = Date.now();
    var start = Date.parse(i.accepted_at || i.created_at), end = i.closed_at ? Date.parse(i.closed_at) : now;
    $("[data-duration]").textContent = span((end - start) / 1000);
    var waited = ((i.accepted_at ? Date.parse(i.accepted_at) : (i.closed_at ? end : now)) - Date.parse(i.created_at)) / 1000;
    var w = $("[data-waited]"); w.textContent = span(waited); w.classList.toggle("is-long", waited > 60);
    // Counted by the server (customer turns the agent answered), never here.
    $("[data-exchanges]").textContent = i.exchanges == null ? "–" : i.exchanges;
  }

  function open(id) {
    current = id;
    var c = conv(id);
    $("[data-empty]").hidden = true; $("[data-conv]").hidden = false;
    log.textContent = ""; $("[data-typing]").hidden = true;
    loadConversation(id).then(function (data) {
      if (current !== id) return;
      book.thread(id).messages().forEach(drawMessage);
      book.outbox.items().forEach(function (p) { if (p.conversation_id === id) drawPending(p.client_id, p.text); });
      watch(id);
      showHeader(); markRead(); renderLists(); showRead(data.conversation.customer_read_seq);
      input.focus();
    });
    fetch(url(URLS.customerPanelUrl, id), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { if (current === id) $("[data-customer]").innerHTML = html; });
  }
  // The conversation as the server has it: its state (with the exchange count) and the
  // whole history, which the log merges with what it holds (each message kept once).
  function loadConversation(id) {
    return fetch(url(URLS.conversationUrl, id), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var c = conv(id);
        c.info = Object.assign(c.info || {}, data.conversation);
        data.messages.forEach(function (m) { if (book.add(m) && current === id) drawMessage(m); });
        return data;
      });
  }
  // A new message may change the signals the server counts: re-read them, once for a burst.
  function refreshSoon() {
    clearTimeout(refreshTimer);
    var id = current;
    refreshTimer = setTimeout(function () { loadConversation(id).then(function () { if (current === id) showSignals(); }); }, 400);
  }
  function showRead(seq) {
    log.querySelectorAll(".from-agent[data-seq]").forEach(function (x) {
      var meta = x.querySelector(".meta");
      if (+x.dataset.seq <= seq && meta && meta.textContent.indexOf(L.read) < 0) meta.textContent += " · " + L.read;
    });
  }

  // --- Socket -------------------------------------------------------------------------
  // After `rate_limited`: one resend of the outbox for however many refusals.
  var resendTimer = null;
  function resendLater(ms) {
    if (resendTimer) return;
    resendTimer = setTimeout(function () {
      resendTimer = null;
      book.outbox.items().forEach(function (p) { send({ type: "send", conversation_id: p.conversation_id, client_id: p.client_id, text: p.text }); });
    }, ms);
  }
  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        // (Re)connected: catch up every watched conversation, then resend the outbox.
        Object.keys(convs).forEach(function (id) { convs[id].watched = false; });
        loadLists().then(function () {
          if (current && !conv(current).watched) watch(current);
          book.outbox.items().forEach(function (p) { send({ type: "send", conversation_id: p.conversation_id, client_id: p.client_id, text: p.text }); });
        });
        break;
      case "resync":
        // Pushes may have been lost while the server's message bus was away: re-read the
        // lists and catch up what is open (sync does not change what is watched).
        catchUp();
        break;
      case "list": listSoon(); break;
      case "messages": f.messages.forEach(addMessage); if (f.more) watch(f.conversation_id); break;
      case "message":
        // A gap (we hold 7, this is 9): keep it, and ask for what is missing.
        addMessage(f.message);
        if (book.thread(f.message.conversation_id).hasGap()) watch(f.message.conversation_id);
        if (f.message.sender === "customer" && f.message.conversation_id === current) $("[data-typing]").hidden = true;
        break;
      case "ack":
        book.outbox.ack(f.client_id);
        if (!book.thread(f.conversation_id).get(f.seq)) watch(f.conversation_id);
        break;
      case "conversation":
        var s = f.conversation, cc = conv(s.id);
        if (cc.info) { cc.info.status = s.status; if (s.rating) cc.info.rating = s.rating; }
        listSoon();
        if (s.id === current) setTimeout(function () { open(current); }, 200);
        break;
      case "typing":
        if (f.conversation_id === current) {
          $("[data-typing]").hidden = false; clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { $("[data-typing]").hidden = true; }, 3500);
        }
        break;
      case "read": if (f.conversation_id === current) showRead(f.seq); break;
      case "rated": if (convs[f.conversation_id] && convs[f.conversation_id].info) { convs[f.conversation_id].info.rating = f.rating; if (f.conversation_id === current) showHeader(); } break;
      case "done":
        if (f.action === "accept") { listSoon(); open(f.conversation_id); }
        else if (f.action === "transfer" || f.action === "close") { listSoon(); open(f.conversation_id); }
        break;
      case "error":
        if (f.client_id && f.code === "rate_limited" && book.outbox.has(f.client_id)) {
          resendLater((f.retry_after || 1) * 1000);  // nothing was stored; same client_id later
        } else if (f.client_id && book.outbox.has(f.client_id)) {
          book.outbox.drop(f.client_id);
          var el = log.querySelector('[data-pending="' + CSS.escape(f.client_id) + '"]');
          if (el) { el.classList.add("is-failed"); el.querySelector(".meta").textContent = fmt(L.failed, { reason: f.message }); }
        } else { var note = $("[data-note]"); note.hidden = false; note.textContent = f.message; setTimeout(function () { showHeader(); }, 4000); }
        break;
    }
  }
  function setLive(status) {
    var el = $("[data-live]"), live = status === "live";
    isLive = live;
    el.textContent = live ? L.live : (status === "denied" ? L.denied : L.offline);
    el.classList.toggle("is-live", live);
  }

  // --- Actions ------------------------------------------------------------------------
  root.addEventListener("click", function (e) {
    var acc = e.target.closest("[data-accept]");
    if (acc) { e.stopPropagation(); send({ type: "accept", conversation_id: +acc.dataset.accept }); return; }
    var item = e.target.closest(".wb-item");
    if (item) open(+item.dataset.id);
  });
  $('[data-action="accept"]').addEventListener("click", function () { send({ type: "accept", conversation_id: current }); });
  ["transfer", "close"].forEach(function (kind) {
    var dialog = $('[data-dialog="' + kind + '"]'), form = $('[data-form="' + kind + '"]');
    $('[data-action="' + kind + '"]').addEventListener("click", function () { form.reset(); $("[data-error]", form).textContent = ""; dialog.showModal(); });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "ok" || !current) return;
      var frame = { type: kind, conversation_id: current };
      if (kind === "transfer") {
        if (form.to_agent_id.value) frame.to_agent_id = +form.to_agent_id.value;
        if (form.to_group_id.value) frame.to_group_id = +form.to_group_id.value;
        frame.note = form.note.value;
      } else {
        frame.issue_type_id = form.issue_type_id.value ? +form.issue_type_id.value : null;
        frame.summary = form.summary.value;
      }
      send(frame);
    });
  });
  $("[data-compose]").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim(); if (!text || !current) return;
    var cid = uuid();
    book.outbox.put(cid, { conversation_id: current, text: text });
    drawPending(cid, text);
    send({ type: "send", conversation_id: current, client_id: cid, text: text });
    input.value = "";
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("[data-compose]").requestSubmit(); }
  });
  input.addEventListener("input", function () {
    if (current && Date.now() - lastTyping > 2000) { lastTyping = Date.now(); send({ type: "typing", conversation_id: current }); }
  });
  var EMOJI = "😀 🙂 😊 😉 🙏 👍 👌 🎉 ❤️ 🌹 ☕ 🍵 📦 🚚 💰 ✅ ❓".split(" ");
  EMOJI.forEach(function (ch) {
    var b = document.createElement("button"); b.type = "button"; b.textContent = ch;
    b.addEventListener("click", function () { input.setRangeText(ch, input.selectionStart, input.selectionEnd, "end"); $("[data-emoji-panel]").hidden = true; input.focus(); });
    $("[data-emoji-panel]").appendChild(b);
  });
  $("[data-emoji]").addEventListener("click", function () { var p = $("[data-emoji-panel]"); p.hidden = !p.hidden; });
  $("[data-file]").addEventListener("change", function (e) {
    var file = e.target.files[0]; e.target.value = "";
    if (!file || !current) return;
    var note = $("[data-note]");
    if (file.size > RULES.max_bytes) { note.hidden = false; note.textContent = L.too_large; return; }
    if (!allowedFile(file)) { note.hidden = false; note.textContent = L.bad_type; return; }
    var form = new FormData(); form.append("client_id", uuid()); form.append("file", file);
    fetch(url(URLS.uploadUrl, current), { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
      .then(function (j) { addMessage(j.message); })
      .catch(function (err) { note.hidden = false; note.textContent = (err && err.message) || "?"; });
  });
  document.addEventListener("visibilitychange", markRead);
  setInterval(function () { showSignals(); if (lists.waiting.length) renderLists(); }, 1000);
  // A backstop for a push lost without a resync hint (docs/realtime.md).
  setInterval(catchUp, 60000);
  sock = KefuSocket.connect(root.dataset.socket, { onframe: onFrame, onstatus: setLive });
})();

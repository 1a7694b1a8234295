/* Kefu customer chat (full page and inside the widget's iframe). Protocol: docs/realtime.md.
 *
 * Durability: every message gets a client id and waits in the outbox (KefuLog, kept in
 * localStorage) until the server acknowledges it; after any reconnect (KefuSocket) the page
 * says hello with the last seq it holds, receives exactly what it missed, and resends what
 * is still in the outbox. The log keeps messages once per id/seq, in order, so a resend or
 * a repeated push never shows twice. Texts, URLs and upload rules come from the page. */
(function () {
  "use strict";
  var body = document.body;
  var key = body.dataset.channel;
  var L = JSON.parse(document.getElementById("kchat-labels").textContent);
  var RULES = JSON.parse(document.getElementById("kchat-attachment-rules").textContent);
  var $ = function (sel) { return document.querySelector(sel); };
  var log = $("[data-log]"), input = $("[data-input]"), statusEl = $("[data-status]");
  var banner = $("[data-banner]"), typingEl = $("[data-typing]"), rateForm = $("[data-rate]");
  var ratedEl = $("[data-rated]"), emojiPanel = $("[data-emoji-panel]");
  var params = new URLSearchParams(location.search);
  var store = {
    get: function (k, d) { try { var v = localStorage.getItem("kefu." + key + "." + k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } },
    set: function (k, v) { try { localStorage.setItem("kefu." + key + "." + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  };
  var token = store.get("token", "");
  // Messages in memory only: after a reload the page holds nothing, so the first hello asks
  // for the whole conversation; reconnects ask for what is missing. The outbox is stored.
  var storage = null;
  try { storage = window.localStorage; } catch (e) { /* storage blocked: the outbox lives in memory */ }
  var book = KefuLog.create({ storage: storage, key: "kefu." + key + ".pending" });
  var conv = null;                                 // conversation state from the server
  var heldId = null;                               // the conversation whose seqs we hold
  var sock = null, typingTimer = null, lastTyping = 0, chosenStars = 0;

  function fmt(s, vars) { return s.replace(/%\((\w+)\)[sd]/g, function (_, k) { return vars[k]; }); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function time(iso) { var d = new Date(iso); return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function setStatus(text) { statusEl.textContent = text; }

  function bubble(cls) {
    var li = document.createElement("li");
    li.className = "kchat-msg " + cls;
    return li;
  }

  function fillAttachment(el, a) {
    // Files are readable only with the visitor token: fetch, then show from a blob URL.
    fetch(a.url, { headers: { "X-Visitor-Token": token } })
      .then(function (r) { return r.ok ? r.blob() : Promise.reject(r.status); })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        if (a.is_image) {
          var img = document.createElement("img");
          img.src = url; img.alt = a.name; img.className = "kchat-img";
          img.addEventListener("load", scrollDown);
          el.appendChild(img);
        } else {
          var link = document.createElement("a");
          link.href = url; link.download = a.name; link.textContent = "📎 " + a.name;
          el.appendChild(link);
        }
      })
      .catch(function () { el.appendChild(document.createTextNode("📎 " + a.name)); });
  }

  function lastSeq() { return heldId ? book.thread(heldId).lastSeq : 0; }

  function draw(m) {
    if (!book.add(m)) return;
    var p = m.client_id && m.sender === "customer" && log.querySelector('[data-pending="' + CSS.escape(m.client_id) + '"]');
    if (p) p.remove();
    var li = bubble("from-" + m.sender);
    li.dataset.id = m.id; li.dataset.seq = m.seq; li.dataset.conv = m.conversation_id;
    if (m.sender === "agent" && m.agent_name) {
      var who = document.createElement("div"); who.className = "kchat-who"; who.textContent = m.agent_name; li.appendChild(who);
    }
    if (m.text) { var t = document.createElement("div"); t.className = "kchat-text"; t.textContent = m.text; li.appendChild(t); }
    if (m.attachment) fillAttachment(li, m.attachment);
    var meta = document.createElement("div"); meta.className = "kchat-meta"; meta.textContent = time(m.created_at); li.appendChild(meta);
    // Keep server order by (conversation, seq) even when pushes and catch-up interleave:
    // before the first later message on screen.
    var later = book.next(m), after = null;
    while (later && !(after = log.querySelector('[data-id="' + later.id + '"]'))) later = book.next(later);
    log.insertBefore(li, after || log.querySelector("[data-pending]") || null);
    markRead();
    scrollDown();
  }

  function drawPending(item) {
    if (log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]')) return;
    var li = bubble("from-customer is-pending");
    li.dataset.pending = item.client_id;
    var t = document.createElement("div"); t.className = "kchat-text"; t.textContent = item.text; li.appendChild(t);
    var meta = document.createElement("div"); meta.className = "kchat-meta"; meta.textContent = L.sending; li.appendChild(meta);
    log.appendChild(li);
    scrollDown();
  }

  function showReadState() {
    log.querySelectorAll(".is-read").forEach(function (x) { x.classList.remove("is-read"); });
    if (!conv || !conv.agent_read_seq) return;
    var mine = log.querySelectorAll('.from-customer[data-conv="' + conv.id + '"]');
    for (var i = mine.length - 1; i >= 0; i--) {
      if (+mine[i].dataset.seq <= conv.agent_read_seq) { mine[i].classList.add("is-read"); mine[i].querySelector(".kchat-meta").dataset.read = L.read; break; }
    }
  }

  function applyState(state) {
    if (!state) { banner.hidden = true; rateForm.hidden = true; ratedEl.hidden = true; setStatus(L.online); return; }
    heldId = state.id;
    conv = state;
    var greeting = log.querySelector(".kchat-greeting"); if (greeting) greeting.remove();
    banner.hidden = true;
    if (state.status === "queued") { banner.hidden = false; banner.textContent = fmt(L.queued, { n: state.queue_position || 1 }); setStatus(L.online); }
    else if (state.status === "active") setStatus(fmt(L.active, { name: state.agent_name }));
    else { setStatus(L.closed); typingEl.hidden = true; }
    rateForm.hidden = !(state.status === "closed" && !state.rating);
    ratedEl.hidden = !(state.status === "closed" && state.rating);
    showReadState();
  }

  function send(frame) { return !!sock && sock.send(frame); }

  function flushOutbox() { book.outbox.items().forEach(function (p) { send({ type: "send", client_id: p.client_id, text: p.text }); }); }
  // One resend for however many refusals: each would otherwise schedule its own flush.
  var flushTimer = null;
  function flushLater(ms) { if (!flushTimer) flushTimer = setTimeout(function () { flushTimer = null; flushOutbox(); }, ms); }

  function markRead() {
    if (!conv || document.hidden) return;
    var seq = book.thread(conv.id).lastSeq;
    if (seq > (conv.customer_read_seq || 0)) { conv.customer_read_seq = seq; send({ type: "read", seq: seq }); }
  }

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        applyState(f.conversation);
        if (!f.conversation && f.channel.greeting && !log.querySelector(".kchat-greeting")) {
          var g = bubble("from-system kchat-greeting"); g.textContent = f.channel.greeting; log.prepend(g);
        }
        flushOutbox();
        break;
      case "messages":
        f.messages.forEach(draw);
        if (f.more) send({ type: "sync", after_seq: lastSeq() });
        break;
      case "message":
        var m = f.message;
        draw(m);
        // A gap (we hold 7, this is 9): keep it, and ask for what is missing.
        if (conv && m.conversation_id === conv.id && book.thread(conv.id).hasGap()) send({ type: "sync", after_seq: lastSeq() });
        if (m.sender === "agent") typingEl.hidden = true;
        break;
      case "ack":
        book.outbox.ack(f.client_id);
        if (!conv || conv.id !== f.conversation_id || !book.thread(f.conversation_id).get(f.seq)) send({ type: "sync", after_seq: conv && conv.id === f.conversation_id ? lastSeq() : 0 });
        break;
      case "conversation":
        var fresh = !conv || conv.id !== f.conversation.id;
        applyState(f.conversation);
        if (fresh) send({ type: "sync", after_seq: lastSeq() });
        break;
      case "resync":
        // Pushes may have been lost while the server's message bus was away: catch up.
        if (conv) send({ type: "sync", after_seq: lastSeq() });
        break;
      case "typing":
        typingEl.hidden = false; clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingEl.hidden = true; }, 3500);
        break;
      case "read":
        if (conv) { conv.agent_read_seq = Math.max(conv.agent_read_seq || 0, f.seq); showReadState(); }
        break;
      case "rated":
        if (conv) { conv.rating = f.rating; applyState(conv); }
        break;
      case "error":
        if (f.client_id && f.code === "rate_limited") {
          // Too fast: nothing was stored; the outbox resends (same client_id) once allowed.
          flushLater((f.retry_after || 1) * 1000);
        } else if (f.client_id && f.code === "conversation_closed") {
          // Closed in the meantime: the same message, resent, starts a new conversation.
          setTimeout(flushOutbox, 300);
        } else if (f.client_id) {
          // Refused for good (not a network problem): stop resending it and say why.
          book.outbox.drop(f.client_id);
          var el = log.querySelector('[data-pending="' + CSS.escape(f.client_id) + '"]');
          if (el) { el.classList.add("is-failed"); el.querySelector(".kchat-meta").textContent = fmt(L.failed, { reason: f.message }); }
        } else if (f.code === "not_authenticated") { token = ""; store.set("token", ""); }
        break;
    }
  }

  function session() {
    var payload = { channel: key, visitor_token: token };
    if (params.get("customer_id")) { payload.customer_id = params.get("customer_id"); payload.customer_hash = params.get("customer_hash") || ""; }
    return fetch(body.dataset.sessionUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
      .then(function (j) { token = j.visitor_token; store.set("token", token); });
  }

  // The socket: hello (with what we hold) after every (re)connect. A 4401 means the visitor
  // token was refused: get a fresh session, then try again (backing off); other refusals
  // leave the chat offline.
  function connect() {
    sock = KefuSocket.connect(body.dataset.socket, {
      onopen: function () {
        var hello = { type: "hello", visitor_token: token };
        if (heldId) { hello.conversation_id = heldId; hello.after_seq = lastSeq(); }
        send(hello);
      },
      onframe: onFrame,
      onstatus: function (status, code) {
        if (status === "connecting") setStatus(L.connecting);
        else if (status === "retrying" || status === "denied" || status === "closed") setStatus(L.offline);
        if (status === "denied" && code === 4401) {
          session().then(sock.retry, function (err) { if (err && err.error) setStatus(err.message || L.offline); else sock.retry(); });
        }
      }
    });
  }
  // A backstop for a push lost without a resync hint (docs/realtime.md): now and then ask
  // for anything after the last seq held. Cheap: usually an empty answer.
  setInterval(function () { if (conv && conv.status !== "closed") send({ type: "sync", after_seq: lastSeq() }); }, 120000);
  $("[data-compose]").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var item = { client_id: uuid(), text: text };
    book.outbox.put(item.client_id, { text: text });
    drawPending(item);
    send({ type: "send", client_id: item.client_id, text: text });
    input.value = ""; input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("[data-compose]").requestSubmit(); }
  });
  input.addEventListener("input", function () {
    if (Date.now() - lastTyping > 2000 && conv && conv.status === "active") { lastTyping = Date.now(); send({ type: "typing" }); }
  });

  // Emoji: a small built-in set, no CDN.
  var EMOJI = "😀 😁 😂 🙂 😊 😍 😘 😉 😎 🤔 😅 😢 😭 😡 😮 😴 👍 👎 👏 🙏 👌 ✌️ 💪 🤝 ❤️ 💔 🎉 🌹 ☕ 🍵 📦 🚚 💰 🧾 ✅ ❌ ⭐ 🔥 ❓ ❗".split(" ");
  EMOJI.forEach(function (ch) {
    var b = document.createElement("button"); b.type = "button"; b.textContent = ch;
    b.addEventListener("click", function () {
      var s = input.selectionStart || input.value.length;
      input.value = input.value.slice(0, s) + ch + input.value.slice(input.selectionEnd || s);
      emojiPanel.hidden = true; input.focus();
    });
    emojiPanel.appendChild(b);
  });
  $("[data-emoji]").addEventListener("click", function () { emojiPanel.hidden = !emojiPanel.hidden; });

  // Files and images over HTTP, with the same client-id idempotency as text.
  // The rules are the server's (json_script); it checks again, and decides.
  function allowedFile(file) {
    var name = file.name.toLowerCase();
    return Object.keys(RULES.types).some(function (t) { return RULES.types[t].some(function (s) { return name.slice(-s.length) === s; }); });
  }
  $("[data-file]").addEventListener("change", function (e) {
    var file = e.target.files[0]; e.target.value = "";
    if (!file) return;
    if (file.size > RULES.max_bytes) { alertLine(L.too_large); return; }
    if (!allowedFile(file)) { alertLine(L.bad_type); return; }
    var item = { client_id: uuid(), text: fmt(L.uploading, { name: file.name }) };
    drawPending(item);
    var form = new FormData(); form.append("client_id", item.client_id); form.append("file", file);
    fetch(body.dataset.uploadUrl, { method: "POST", headers: { "X-Visitor-Token": token }, body: form })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
      .then(function (j) {
        var el = log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]'); if (el) el.remove();
        if (!conv || conv.id !== j.conversation_id) send({ type: "sync", after_seq: 0 }); else draw(j.message);
      })
      .catch(function (err) {
        var el = log.querySelector('[data-pending="' + CSS.escape(item.client_id) + '"]');
        if (el) { el.classList.add("is-failed"); el.querySelector(".kchat-meta").textContent = fmt(L.failed, { reason: (err && err.message) || "" }); }
      });
  });
  function alertLine(text) { var li = bubble("from-system is-failed"); li.textContent = text; log.appendChild(li); scrollDown(); }

  // Rating.
  rateForm.querySelectorAll("[data-star]").forEach(function (b) {
    b.addEventListener("click", function () {
      chosenStars = +b.dataset.star;
      rateForm.querySelectorAll("[data-star]").forEach(function (x) { x.classList.toggle("is-on", +x.dataset.star <= chosenStars); x.setAttribute("aria-checked", +x.dataset.star === chosenStars); });
    });
  });
  rateForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!chosenStars) { alertLine(L.pick_stars); return; }
    send({ type: "rate", rating: chosenStars, comment: rateForm.comment.value });
  });

  var closeBtn = $("[data-close]");
  if (closeBtn) closeBtn.addEventListener("click", function () { parent.postMessage({ kefu: "close" }, "*"); });
  document.addEventListener("visibilitychange", markRead);

  // Inside the widget, the host page's script hands over the customer's identity (if any)
  // when asked; the full-page chat takes it from its own URL.
  function identityThenStart() {
    if (!body.classList.contains("is-embedded") || window.parent === window) return start();
    var done = false;
    function go(id) {
      if (done) return; done = true;
      if (id && id.customer_id) { params.set("customer_id", id.customer_id); params.set("customer_hash", id.customer_hash || ""); }
      start();
    }
    window.addEventListener("message", function (e) {
      if (e.source === window.parent && e.data && e.data.kefu === "identity") go(e.data.identity);
    });
    parent.postMessage({ kefu: "ready" }, "*");
    setTimeout(function () { go(null); }, 1500);  // an older loader never answers
  }
  function start() {
    setStatus(L.connecting);
    // A refused session (unknown channel, bad identity) is final; a network failure is not:
    // the socket's own backoff retries, and its 4401 path asks for a session again.
    session().then(connect, function (err) { if (err && err.error) setStatus(err.message || L.offline); else connect(); });
  }
  book.outbox.items().forEach(drawPending);
  identityThenStart();
})();

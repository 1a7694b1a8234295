/* Kefu's one ordered message log (the workbench and the customer chat use it).
 * Protocol: docs/realtime.md — the server numbers each conversation's messages 1, 2, 3, …
 *
 *   var book = KefuLog.create({ storage: localStorage, key: "kefu.demo.pending" });
 *   book.add(message)        // true when new: draw it; false for a repeat (same id or seq)
 *   book.next(message)       // the held message that follows it (insert before that), or null
 *   book.thread(77).lastSeq  // highest seq held without a gap: the after_seq of sync/hello
 *   book.thread(77).hasGap() // a later seq is held than lastSeq + 1: sync from lastSeq
 *   book.thread(77).startAfter(40)   // history up to 40 is not wanted here
 *
 * The outbox keeps every send until the server has it, keyed by client_id, in storage (so a
 * reload resends too):
 *   book.outbox.put("c-1", {text: "Hi", conversation_id: 77})
 *   book.outbox.items()      // [{client_id, ...}] oldest first: resend all after reconnect
 *   book.outbox.ack("c-1")   // on `ack` (and when the stored message itself arrives)
 *   book.outbox.drop("c-1")  // refused for good
 */
(function (global) {
  "use strict";

  function Thread(id) {
    this.id = id;
    this.list = [];          // messages, ascending seq
    this.bySeq = {};
    this.floor = 0;          // seqs up to here count as held (not wanted on this page)
    this.lastSeq = 0;        // highest seq held with nothing missing below it
  }
  Thread.prototype.has = function (m) { return !!this.bySeq[m.seq]; };
  Thread.prototype.get = function (seq) { return this.bySeq[seq] || null; };
  Thread.prototype.messages = function () { return this.list.slice(); };
  Thread.prototype.maxSeq = function () {
    return this.list.length ? Math.max(this.list[this.list.length - 1].seq, this.floor) : this.floor;
  };
  Thread.prototype.hasGap = function () { return this.maxSeq() > this.lastSeq; };
  Thread.prototype.startAfter = function (seq) {
    if (seq > this.floor) { this.floor = seq; this._advance(); }
  };
  Thread.prototype._advance = function () {
    var s = Math.max(this.lastSeq, this.floor);
    while (this.bySeq[s + 1]) s += 1;
    this.lastSeq = s;
  };
  Thread.prototype._insert = function (m) {
    var i = this.list.length;
    while (i > 0 && this.list[i - 1].seq > m.seq) i -= 1;
    this.list.splice(i, 0, m);
    this.bySeq[m.seq] = m;
    this._advance();
    return i;
  };

  function Outbox(storage, key) {
    this.storage = storage || null;
    this.key = key || "";
    this.entries = [];
    var raw = null;
    try { raw = this.storage && JSON.parse(this.storage.getItem(this.key) || "null"); } catch (e) { raw = null; }
    if (Array.isArray(raw)) this.entries = raw.filter(function (x) { return x && x.client_id; });
    else if (raw && typeof raw === "object") {
      // An older page kept {client_id: {...}}.
      var self = this;
      Object.keys(raw).forEach(function (cid) { self.entries.push(Object.assign({ client_id: cid }, raw[cid])); });
    }
  }
  Outbox.prototype._save = function () {
    if (!this.storage) return;
    try { this.storage.setItem(this.key, JSON.stringify(this.entries)); } catch (e) { /* private mode */ }
  };
  Outbox.prototype.put = function (clientId, fields) {
    this.entries = this.entries.filter(function (x) { return x.client_id !== clientId; });
    this.entries.push(Object.assign({}, fields, { client_id: clientId }));
    this._save();
  };
  Outbox.prototype.get = function (clientId) {
    for (var i = 0; i < this.entries.length; i++) if (this.entries[i].client_id === clientId) return this.entries[i];
    return null;
  };
  Outbox.prototype.has = function (clientId) { return !!this.get(clientId); };
  Outbox.prototype.items = function () { return this.entries.slice(); };
  Outbox.prototype.ack = function (clientId) {
    var before = this.entries.length;
    this.entries = this.entries.filter(function (x) { return x.client_id !== clientId; });
    if (this.entries.length !== before) this._save();
    return this.entries.length !== before;
  };
  Outbox.prototype.drop = Outbox.prototype.ack;

  function Book(options) {
    options = options || {};
    this.threads = {};
    this.ids = {};           // message id -> message: one message is shown once
    this.outbox = new Outbox(options.storage, options.key);
  }
  Book.prototype.thread = function (id) {
    return this.threads[id] || (this.threads[id] = new Thread(id));
  };
  Book.prototype.has = function (m) {
    return !!(this.ids[m.id] || (this.threads[m.conversation_id] && this.threads[m.conversation_id].has(m)));
  };
  // Keep a message. False when it is a repeat (by id or by seq within its conversation).
  // A message that carries one of our client ids is stored: it leaves the outbox.
  Book.prototype.add = function (m) {
    if (!m || m.seq == null || this.has(m)) return false;
    this.thread(m.conversation_id)._insert(m);
    if (m.id != null) this.ids[m.id] = m;
    if (m.client_id) {
      var entry = this.outbox.get(m.client_id);
      if (entry && (entry.conversation_id == null || entry.conversation_id === m.conversation_id)) this.outbox.ack(m.client_id);
    }
    return true;
  };
  // The held message that comes right after m: conversations in id order (a customer's
  // next conversation follows the last), then seq.
  Book.prototype.next = function (m) {
    var t = this.threads[m.conversation_id];
    if (t) {
      for (var i = 0; i < t.list.length; i++) if (t.list[i].seq > m.seq) return t.list[i];
    }
    var later = Object.keys(this.threads).map(Number)
      .filter(function (id) { return id > m.conversation_id; })
      .sort(function (a, b) { return a - b; });
    for (var j = 0; j < later.length; j++) {
      var l = this.threads[later[j]].list;
      if (l.length) return l[0];
    }
    return null;
  };

  global.KefuLog = {
    create: function (options) { return new Book(options); },
    Thread: Thread,
    Outbox: Outbox
  };
})(window);

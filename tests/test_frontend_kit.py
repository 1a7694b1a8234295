"""The front-end kit's two modules on their own, in real Chromium, without a server:
static/kefu/js/message_log.js (order, one copy per id/seq, last seq without a gap, the
outbox) and static/kefu/js/socket.js (close-code policy, backoff with jitter and cap, and
reconnecting through a scripted stand-in for WebSocket)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.live_server import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

KIT = settings.BASE_DIR / "static" / "kefu" / "js"


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<!doctype html><title>kit</title>")
        page.add_script_tag(path=str(KIT / "message_log.js"))
        page.add_script_tag(path=str(KIT / "socket.js"))
        yield page
        assert errors == []
        browser.close()


def test_log_orders_by_seq_and_keeps_one_copy_per_id_and_seq(page):
    result = page.evaluate(
        """() => {
        const book = KefuLog.create();
        const m = (id, seq, conv = 7) => ({ id, seq, conversation_id: conv, text: "#" + seq });
        const all = [m(13, 3), m(11, 1), m(13, 3), m(99, 3), m(12, 2), m(11, 1)];
        const added = all.map((x) => book.add(x));
        const t = book.thread(7);
        return {
          added, order: t.messages().map((x) => x.seq), last: t.lastSeq, gap: t.hasGap(),
          next1: book.next(m(11, 1)).seq, nextLast: book.next(m(13, 3)),
        };
    }"""
    )
    # A repeat by id (13) or by seq (99 claims seq 3) is refused: drawn once.
    assert result["added"] == [True, True, False, False, True, False]
    assert result["order"] == [1, 2, 3]
    assert (result["last"], result["gap"]) == (3, False)
    assert result["next1"] == 2 and result["nextLast"] is None


def test_log_last_seq_stops_at_a_gap_and_follows_a_floor(page):
    result = page.evaluate(
        """() => {
        const book = KefuLog.create();
        const t = book.thread(5);
        const m = (seq) => ({ id: 100 + seq, seq, conversation_id: 5 });
        book.add(m(1)); book.add(m(2)); book.add(m(4));
        const withGap = [t.lastSeq, t.hasGap()];
        book.add(m(3));
        const filled = [t.lastSeq, t.hasGap()];
        const other = book.thread(6);
        other.startAfter(40);  // history up to 40 not wanted
        book.add({ id: 500, seq: 41, conversation_id: 6 });
        // A later conversation's messages come after the earlier one's.
        book.add({ id: 600, seq: 1, conversation_id: 9 });
        return { withGap, filled, floor: [other.lastSeq, other.hasGap()],
                 after4: book.next(m(4)).id };
    }"""
    )
    assert result["withGap"] == [2, True]  # sync with after_seq 2
    assert result["filled"] == [4, False]
    assert result["floor"] == [41, False]
    assert result["after4"] == 500


def test_outbox_is_stored_resent_and_cleared_by_ack_or_by_the_stored_message(page):
    result = page.evaluate(
        """() => {
        const mem = {};
        const storage = {
          getItem: (k) => (k in mem ? mem[k] : null),
          setItem: (k, v) => { mem[k] = v; },
        };
        const book = KefuLog.create({ storage, key: "out" });
        book.outbox.put("a", { text: "one", conversation_id: 7 });
        book.outbox.put("b", { text: "two", conversation_id: 7 });
        book.outbox.put("c", { text: "three", conversation_id: 7 });
        // A reload: a new page reads the same storage.
        const again = KefuLog.create({ storage, key: "out" });
        const afterReload = again.outbox.items().map((x) => x.client_id + ":" + x.text);
        again.outbox.ack("a");
        // The stored message itself (pushed, or in a catch-up) also empties its slot...
        again.add({ id: 1, seq: 1, conversation_id: 7, client_id: "b" });
        // ...but not someone else's in another conversation with the same client id.
        again.add({ id: 2, seq: 1, conversation_id: 8, client_id: "c" });
        const older = '{"x": {"text": "t", "conversation_id": 3}}';  // {client_id: {...}}
        const old = KefuLog.create({ storage: { getItem: () => older, setItem() {} } });
        return { afterReload, left: again.outbox.items().map((x) => x.client_id),
                 stored: JSON.parse(mem.out).map((x) => x.client_id),
                 oldFormat: old.outbox.items() };
    }"""
    )
    assert result["afterReload"] == ["a:one", "b:two", "c:three"]
    assert result["left"] == ["c"]
    assert result["stored"] == ["c"]
    assert result["oldFormat"] == [{"client_id": "x", "text": "t", "conversation_id": 3}]


def test_close_code_policy_and_backoff(page):
    result = page.evaluate(
        """() => {
        const codes = [4401, 4403, 4429, 1000, 1001, 1006, 1011, 1012];
        const opts = { minDelay: 1000, maxDelay: 15000 };
        const low = [0, 1, 2, 3, 10].map((a) => KefuSocket.backoff(a, opts, () => 0));
        const high = [0, 1, 2, 3, 10].map((a) => KefuSocket.backoff(a, opts, () => 1));
        const spread = new Set(Array.from({ length: 50 }, () => KefuSocket.backoff(2, opts))).size;
        return { policy: codes.map(KefuSocket.policy), low, high, spread };
    }"""
    )
    assert result["policy"] == [
        "denied",
        "denied",
        "denied",
        "closed",
        "retry",
        "retry",
        "retry",
        "retry",
    ]
    # Exponential, capped at 15 s, jittered within the upper half of each step.
    assert result["high"] == [1000, 2000, 4000, 8000, 15000]
    assert result["low"] == [500, 1000, 2000, 4000, 7500]
    assert result["spread"] > 10


def test_socket_reconnects_resends_hello_and_stops_when_refused(page):
    result = page.evaluate(
        """async () => {
        // A stand-in WebSocket the test drives: open, push a frame, close with a code.
        const made = [];
        class Fake {
          constructor(url) { this.url = url; this.readyState = 0; this.sent = []; made.push(this); }
          send(data) { this.sent.push(JSON.parse(data)); }
          close(code) { this.readyState = 3; this.onclose && this.onclose({ code }); }
          open() { this.readyState = 1; this.onopen && this.onopen({}); }
          push(obj) { this.onmessage && this.onmessage({ data: JSON.stringify(obj) }); }
          drop(code) { this.readyState = 3; this.onclose({ code }); }
        }
        const real = window.WebSocket;
        window.WebSocket = Fake;
        const wait = (ms) => new Promise((r) => setTimeout(r, ms));
        const log = [];
        try {
          const sock = KefuSocket.connect("/ws/test/", {
            minDelay: 20, maxDelay: 40,
            onopen: (s) => s.send({ type: "hello" }),
            onframe: (f) => log.push("frame:" + f.type),
            onstatus: (s, code) => log.push(s + (code ? ":" + code : "")),
          });
          const offline = sock.send({ type: "early" });  // not open yet: caller keeps it
          made[0].open();
          made[0].onmessage({ data: "not json" });      // ignored
          made[0].push({ type: "welcome" });
          made[0].drop(1006);                           // network: reconnect
          await wait(80);
          made[1].open();                               // hello again on the new socket
          made[1].drop(4401);                           // refused: stop
          await wait(120);
          const afterDenied = made.length;
          sock.retry();                                 // the page fixed it (new session)
          await wait(120);
          made[2].open();
          sock.close();                                 // clean: no reconnect
          await wait(120);
          const url = "ws://" + location.host + "/ws/test/";
          return { offline, log, sameHost: made.every((w) => w.url === url),
                   hellos: made.map((w) => w.sent.map((f) => f.type).join()),
                   afterDenied, total: made.length };
        } finally { window.WebSocket = real; }
    }"""
    )
    assert result["offline"] is False
    assert result["hellos"] == ["hello", "hello", "hello"]
    assert result["afterDenied"] == 2 and result["total"] == 3
    assert result["sameHost"]
    assert result["log"] == [
        "connecting",
        "live",
        "frame:welcome",
        "retrying:1006",
        "connecting",
        "live",
        "denied:4401",
        "retrying",
        "connecting",
        "live",
        "closed:1000",
    ]

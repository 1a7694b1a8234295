"""Writes of live chat, one module per aggregate (as Zulip's zerver/actions/):

- visitors: open a visitor session; what a customer sends (open or start the conversation)
- conversations: start, accept, transfer, close, rate, system notices
- messages: store a message exactly once (the general path and the PostgreSQL fast path),
  read markers, typing, the checks on text and attachments
- routing: who gets a waiting conversation, and the queue drains
- doorbells: the channel-layer groups and the events rung after commit

Import from the module that owns a function; nothing is re-exported here. Every state
change has one function, which the websocket consumers, HTTP views, Celery tasks and the
admin all call. Each runs in one transaction and rings doorbells only through
core.realtime.broadcast_on_commit, so nobody hears about an uncommitted change.
"""

"""Every change to a ticket goes through the functions in this package, split by what
they change (as Zulip's zerver/actions/): import each from the module that owns it.

- errors: the refusals every service raises
- state: the state machine, the versioned save and the timeline node every write uses
- lifecycle: create and the status transitions (accept, forward, hold, resolve, close…)
- content: what a ticket says (edits, replies, comments, attachments, watchers)
- assignment: who holds a ticket (automatic, manual, reassignment)
- sla: the SLA clock and the sweep that records reminders and breaches
- notifications: webhooks, live doorbells, emails and the chat notice
- input: one resolver of create input, for the page and the API alike
- saved_views: a user's named ticket-list filters
"""

"""Races that only a real PostgreSQL can show: row locks, unique inserts, version checks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from tickets.models import SlaEvent, Ticket, TicketNode
from tickets.services.assignment import ticket_auto_assign
from tickets.services.errors import StaleTicketError, TicketError
from tickets.services.lifecycle import ticket_accept, ticket_create
from tickets.services.sla import sla_event_record, ticket_sla_check
from tickets.tests.conftest import member
from tickets.tests.factories import SlaPolicyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
GOOD = {"order_no": "BT20261101001"}


def race(workers: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(workers)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results.append(work(i))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _assign(ticket_id: int, _worker: int) -> object:
    return ticket_auto_assign(ticket_id=ticket_id)


def test_two_workers_never_assign_one_ticket_twice(ticket_type, group):
    # Created before anyone is on duty, so the on-commit assignment leaves them queued.
    tickets = [
        ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD)
        for _ in range(5)
    ]
    for _ in range(3):
        member(group)
    for t in tickets:
        results, errors = race(4, partial(_assign, t.pk))
        assert not errors, errors
        assert sum(1 for r in results if r is not None) == 1
        assert t.nodes.filter(action=TicketNode.Action.ASSIGN).count() == 1
        assert Ticket.objects.get(pk=t.pk).version == 2


def test_concurrent_sla_checks_record_one_event(ticket_type, group, clock):
    SlaPolicyFactory.create(ticket_type=ticket_type, first_response_minutes=60)
    t = ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD)
    clock.set(2025, 11, 3, 12, 0)  # past the deadline
    _results, errors = race(4, lambda _i: ticket_sla_check(ticket_id=t.pk))
    assert not errors, errors
    assert SlaEvent.objects.filter(ticket=t, kind="breach").count() == 1
    assert t.nodes.filter(action=TicketNode.Action.SLA_BREACH).count() == 1


def test_unique_row_is_the_last_line_of_defence(ticket_type):
    t = ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD)
    due = t.created_at
    results, errors = race(
        4, lambda _i: sla_event_record(Ticket.objects.get(pk=t.pk), "resolution", due, "breach")
    )
    assert not errors, errors
    assert sum(1 for r in results if r is not None) == 1
    assert SlaEvent.objects.count() == 1


def test_concurrent_accepts_one_wins_the_other_is_told(ticket_type, group):
    t = ticket_create(ticket_type=ticket_type, title="x", submitter=None, answers=GOOD)
    people = [member(group), member(group)]
    results, errors = race(
        2, lambda i: ticket_accept(ticket=Ticket.objects.get(pk=t.pk), actor=people[i], version=1)
    )
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], (StaleTicketError, TicketError))
    assert t.nodes.filter(action=TicketNode.Action.ACCEPT).count() == 1


def test_title_search_has_a_trigram_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ticket_title_trgm'")
        row = cursor.fetchone()
    assert row is not None and "gin_trgm_ops" in row[0]

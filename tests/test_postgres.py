"""Behaviour that only a real PostgreSQL shows (skipped, with the reason, on SQLite)."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from agents.models import AgentProfile
from agents.services import agent_set_state


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_enforces_the_seat_state_constraint(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentProfile.objects.filter(user=people["agent"]).update(state="napping")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_state_changes_serialise_on_the_seat_row(people):
    """Two sessions flip one seat at once; the row lock keeps state and time consistent."""
    agent = people["agent"]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def flip(state: str) -> None:
        try:
            barrier.wait()
            for _ in range(10):
                agent_set_state(user=agent, state=state)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=flip, args=(s,)) for s in ("online", "away") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AgentProfile.objects.filter(user=agent).count() == 1
    assert AgentProfile.objects.get(user=agent).state in {"online", "away"}
    assert connection.vendor == "postgresql"

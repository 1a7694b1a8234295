"""Routing jobs: thin, idempotent, enqueued on commit by workbench.services.routing."""

from __future__ import annotations

from celery import shared_task

from workbench.services import routing


@shared_task(name="workbench.drain_queue")
def drain_queue(group_id: int) -> int:
    return routing.queue_drain(group_id=group_id)


@shared_task(name="workbench.drain_queues_of_agent")
def drain_queues_of_agent(user_id: int) -> int:
    return routing.queue_drain_for_agent(user_id=user_id)


@shared_task(name="workbench.drain_all_queues")
def drain_all_queues() -> int:
    return routing.queue_drain_all()

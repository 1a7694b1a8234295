"""Routing: who gets a waiting conversation. Here until routing gets its own app.

An assignment holds the conversation's row lock and the agent's seat lock
(AgentProfile row), so concurrent drains, accepts and transfers never put an agent over
capacity or give one conversation to two agents. Drains are enqueued on commit and are
safe to run any number of times; a periodic task drains every queue as a safety net.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.models import AgentProfile, SkillGroup, User
from service_orders import services as so
from service_orders.models import TransferStep
from workbench.models import Conversation
from workbench.selectors import agent_load
from workbench.services.doorbells import ring_lists, ring_queue_order, ring_state


def routing_enqueue(group_id: int) -> None:
    """Drain the group's queue once the caller commits."""
    from workbench.tasks import drain_queue

    transaction.on_commit(lambda: drain_queue.delay(group_id))


def routing_enqueue_for_agent(user_id: int) -> None:
    """A seat freed up: drain the agent's groups once the caller commits."""
    from workbench.tasks import drain_queues_of_agent

    transaction.on_commit(lambda: drain_queues_of_agent.delay(user_id))


def conversation_assign(
    *, conversation: Conversation, agent: User, kind: str, actor: User | None, note: str = ""
) -> None:
    """Give the conversation to `agent`. The caller holds the conversation's row lock and
    the agent's seat lock, and has checked that the agent may take it."""
    now = timezone.now()
    previous = conversation.agent_id
    was_queued = conversation.status == Conversation.Status.QUEUED
    conversation.agent = agent
    conversation.status = Conversation.Status.ACTIVE
    fields = ["agent", "status"]
    if conversation.accepted_at is None:
        conversation.accepted_at = now
        fields.append("accepted_at")
    conversation.save(update_fields=fields)
    so.service_order_add_step(
        conversation=conversation, kind=kind, agent=agent, actor=actor, note=note, at=now
    )
    ring_state(conversation)
    ring_lists(conversation, agent_ids=(agent.pk, previous))
    if was_queued:
        ring_queue_order(conversation.group_id)


def seat_lock(agent: User) -> None:
    """The seat lock serialises every assignment to this agent (see queue_drain)."""
    AgentProfile.objects.select_for_update().get_or_create(user=agent)


def _active_load() -> Subquery:
    return Subquery(
        Conversation.objects.filter(agent_id=OuterRef("user_id"), status=Conversation.Status.ACTIVE)
        .order_by()
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )


def _pick_agent(group: SkillGroup) -> User | None:
    """Lock and return the online member under capacity with the fewest active
    conversations. Seats locked by another router are skipped, not waited for; after the
    lock the load is counted again (the first count may predate a commit that happened
    while we were locking), so an agent is never put over capacity."""
    candidates = (
        AgentProfile.objects.filter(
            user__group_memberships__group=group,
            user__is_active=True,
            state=AgentProfile.State.ONLINE,
        )
        .annotate(load=Coalesce(_active_load(), Value(0)))
        .filter(load__lt=F("max_concurrent"))
        .order_by("load", "state_changed_at", "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
    )
    for profile in candidates[:5]:
        if agent_load(profile.user_id) < profile.max_concurrent:
            return profile.user
    return None


def queue_drain(*, group_id: int, limit: int = 50) -> int:
    """Give waiting conversations of a group to free agents, oldest first. Safe to run any
    number of times, concurrently: each assignment is one transaction holding the
    conversation's row lock and the agent's seat lock. Returns how many were assigned."""
    assigned = 0
    for _round in range(limit):
        with transaction.atomic():
            group = SkillGroup.objects.filter(pk=group_id, is_active=True).first()
            if group is None:
                return assigned
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(group_id=group_id, status=Conversation.Status.QUEUED)
                .order_by("created_at", "pk")
                .first()
            )
            if conversation is None:
                return assigned
            agent = _pick_agent(group)
            if agent is None:
                return assigned
            conversation_assign(
                conversation=conversation, agent=agent, kind=TransferStep.Kind.ROUTED, actor=None
            )
            assigned += 1
    return assigned


def queue_drain_for_agent(*, user_id: int) -> int:
    group_ids = list(
        SkillGroup.objects.filter(memberships__user_id=user_id, is_active=True).values_list(
            "pk", flat=True
        )
    )
    return sum(queue_drain(group_id=gid) for gid in group_ids)


def queue_drain_all() -> int:
    """Drain every group that has someone waiting: the periodic safety net behind the
    on-commit routing tasks (a lost task or a crashed worker delays, never strands)."""
    group_ids = (
        Conversation.objects.filter(status=Conversation.Status.QUEUED)
        .order_by()
        .values_list("group_id", flat=True)
        .distinct()
    )
    return sum(queue_drain(group_id=gid) for gid in list(group_ids))

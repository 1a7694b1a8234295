"""Reads of tickets, always narrowed by agents.access.restrict first.

On top of the shop scope, business staff see only the tickets of their groups (and those
they submitted, hold or watch). Lists page by keyset on the primary key (newest first):
`id < cursor` walks the primary-key index, so a deep page costs what the first page costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.access import get_for, restrict, scope_for
from agents.capabilities import may, with_capability_q
from agents.models import AgentProfile, GroupMembership, SkillGroup, User
from agents.selectors import group_leads
from commerce.models import Order
from service_orders.models import ServiceOrder
from tickets.models import SavedView, SlaEvent, Ticket, TicketAttachment, TicketNode, TicketType
from workbench.models import Message

PAGE_SIZE = 50
TABS = ("mine", "groups", "all")


def tabs_for(user: Any) -> tuple[str, ...]:
    """Business staff work their groups' tickets; everyone else may also see all (in scope)."""
    if not may(user, "browse_tickets"):
        return ("mine", "groups")
    return TABS


def ticket_base_for(*, user: Any) -> QuerySet[Ticket]:
    qs = restrict(Ticket.objects.all(), user=user)
    if not may(user, "browse_tickets"):
        in_group = GroupMembership.objects.filter(group_id=OuterRef("group_id"), user_id=user.pk)
        watching = Ticket.watchers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
        qs = qs.filter(
            Q(Exists(in_group))
            | Q(assignee_id=user.pk)
            | Q(submitter_id=user.pk)
            | Q(Exists(watching))
        )
    return qs


def ticket_list_for(*, user: Any, tab: str = "mine") -> QuerySet[Ticket]:
    qs = ticket_base_for(user=user)
    if tab not in tabs_for(user):
        tab = "mine"
    if tab == "mine":
        qs = qs.filter(assignee_id=user.pk)
    elif tab == "groups":
        qs = qs.filter(
            Exists(GroupMembership.objects.filter(group_id=OuterRef("group_id"), user_id=user.pk))
        )
    return qs.select_related("group", "assignee", "ticket_type", "shop").order_by("-id")


def ticket_get_for(*, user: Any, pk: int) -> Ticket:
    return get_for(
        ticket_base_for(user=user).select_related(
            "group",
            "assignee",
            "submitter",
            "ticket_type",
            "shop",
            "customer",
            "order",
            "service_order",
            "category",
            "sla_policy",
        ),
        user=user,
        pk=pk,
    )


def attachment_get_for(*, user: Any, ticket_pk: int, pk: int) -> TicketAttachment:
    """A file, only through a ticket the user may see (404 otherwise)."""
    ticket = ticket_get_for(user=user, pk=ticket_pk)
    found = ticket.attachments.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# What a list row shows (templatetags.tickets_tags.ticket_rows), read as plain values: the
# page needs no model instances (five per row with their related objects), and skips the
# description, the answers (JSON) and a dozen timestamps per row.
LIST_COLUMNS = (
    "id",
    "title",
    "status",
    "priority",
    "created_at",
    "sla_due",
    "sla_warn_at",
    "paused_at",
    "ticket_type__name",
    "shop__name",
    "group__name",
    "assignee__username",
    "assignee__display_name",
    "assignee__first_name",
    "assignee__last_name",
)


class ListRow:
    """One ticket of a list page, from LIST_COLUMNS."""

    __slots__ = (
        "assignee_name",
        "created_at",
        "group_name",
        "paused_at",
        "pk",
        "priority",
        "shop_name",
        "sla_due",
        "sla_warn_at",
        "status",
        "title",
        "type_name",
    )
    # The model's own rule, on the same three fields.
    sla_state = Ticket.sla_state

    def __init__(self, values: tuple[Any, ...]) -> None:
        (
            self.pk,
            self.title,
            self.status,
            self.priority,
            self.created_at,
            self.sla_due,
            self.sla_warn_at,
            self.paused_at,
            self.type_name,
            self.shop_name,
            self.group_name,
            username,
            display_name,
            first_name,
            last_name,
        ) = values
        # As User.__str__ (display name, else full name, else username); None: nobody.
        self.assignee_name: str | None = (
            None
            if username is None
            else display_name or f"{first_name} {last_name}".strip() or username
        )


def list_rows_page(qs: QuerySet[Ticket], *, after: int | None, before: int | None) -> Page:
    """A keyset page of ListRows (see keyset_page)."""
    return keyset_page(
        qs.values_list(*LIST_COLUMNS),
        after=after,
        before=before,
        row=ListRow,
    )


@dataclass
class Page:
    rows: list[Any]  # Ticket, or ListRow from list_rows_page
    older: int | None  # cursor for the next (older) page
    newer: int | None  # cursor for the previous (newer) page


def keyset_page(
    qs: QuerySet[Ticket],
    *,
    after: int | None,
    before: int | None,
    row: Callable[[Any], Any] | None = None,
) -> Page:
    """One page, newest first. `after`: rows older than that id; `before`: newer ones.
    `row` turns each fetched item into what the page holds (it must have `pk`)."""

    def fetch(page_qs: QuerySet[Ticket]) -> list[Any]:
        items = list(page_qs[: PAGE_SIZE + 1])
        return [row(item) for item in items] if row is not None else items

    if before is not None:
        rows = fetch(qs.filter(pk__gt=before).order_by("id"))
        has_more_newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        return Page(
            rows=rows,
            older=rows[-1].pk if rows else None,
            newer=rows[0].pk if rows and has_more_newer else None,
        )
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = fetch(qs.order_by("-id"))
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(
        rows=rows,
        older=rows[-1].pk if rows and has_more else None,
        newer=rows[0].pk if rows and after is not None else None,
    )


# The per-group counts are a summary beside every list page; counting them reads every open
# ticket's index entry (at 1,000,000 tickets with 400,000 open: ~45 ms, the most expensive
# part of the page, see bench/README.md). They are shared for this long by everyone with
# the same scope, so at most one request per scope and interval pays for them.
GROUP_COUNTS_SECONDS = 30


def group_counts_for(*, user: Any) -> list[dict[str, Any]]:
    """Open and overdue tickets per group, for the groups whose tickets the user sees;
    at most GROUP_COUNTS_SECONDS old (shared by users with the same scope)."""
    scope = scope_for(user)
    if scope.all_shops:
        key = "all"
    else:
        key = "shops-" + "-".join(str(pk) for pk in sorted(scope.shop_ids))
    if not may(user, "browse_tickets"):
        key += f"-user-{user.pk}"
    cached: list[dict[str, Any]] | None = cache.get(f"tickets:group-counts:{key}")
    if cached is None:
        cached = _group_counts(user=user)
        cache.set(f"tickets:group-counts:{key}", cached, GROUP_COUNTS_SECONDS)
    return cached


def _group_counts(*, user: Any) -> list[dict[str, Any]]:
    now = timezone.now()
    qs = restrict(Ticket.objects.all(), user=user)
    if not may(user, "browse_tickets"):
        # Their groups' counts; a plain IN keeps this on the open-tickets index.
        qs = qs.filter(
            group_id__in=list(
                GroupMembership.objects.filter(user_id=user.pk).values_list("group_id", flat=True)
            )
        )
    # COUNT(*) over group_id and sla_due only: an index-only scan of ticket_open_by_group
    # (no heap, no join); the few group names come in a second, tiny query.
    rows = list(
        qs.filter(status__in=Ticket.OPEN_STATUSES)
        .order_by()
        .values("group_id")
        .annotate(open=Count("*"), overdue=Count("sla_due", filter=Q(sla_due__lte=now)))
    )
    names = dict(
        SkillGroup.objects.filter(pk__in=[r["group_id"] for r in rows]).values_list("pk", "name")
    )
    for row in rows:
        row["group__name"] = names.get(row["group_id"], "")
    return sorted(rows, key=lambda r: r["group__name"])


@dataclass
class TimelineStep:
    node: TicketNode
    sat: timedelta  # how long the ticket stayed as this step left it


def timeline_for(ticket: Ticket, *, now: datetime | None = None) -> list[TimelineStep]:
    """The nodes in order, each with how long it sat until the next step (or until now)."""
    now = now or timezone.now()
    nodes = list(
        ticket.nodes.select_related("actor", "group", "assignee").order_by("created_at", "id")
    )
    steps = []
    for index, node in enumerate(nodes):
        if index + 1 < len(nodes):
            until = nodes[index + 1].created_at
        else:
            until = now if ticket.is_open else node.created_at
        steps.append(TimelineStep(node=node, sat=max(until - node.created_at, timedelta(0))))
    return steps


@dataclass
class Holding:
    group: str
    person: str
    total: timedelta


def holdings_from(steps: list[TimelineStep]) -> list[Holding]:
    """Who had it: time summed per (group, person) over the timeline, in order of first hold."""
    totals: dict[tuple[str, str], timedelta] = {}
    for step in steps:
        node = step.node
        key = (node.group.name if node.group else "", str(node.assignee) if node.assignee else "")
        totals[key] = totals.get(key, timedelta(0)) + step.sat
    return [Holding(group=g, person=p, total=t) for (g, p), t in totals.items()]


def ticket_types_for(*, user: Any) -> QuerySet[TicketType]:
    return TicketType.objects.filter(is_active=True).prefetch_related("fields")


def default_type_for_chat(*, user: Any) -> TicketType | None:
    """The type a ticket from a chat starts as: the one asking least (fewest required
    fields), so the agent can usually submit the prefilled form straight away."""
    return (
        TicketType.objects.filter(is_active=True)
        .annotate(required_count=Count("fields", filter=Q(fields__required=True)))
        .order_by("required_count", "name", "pk")
        .first()
    )


def draft_from_chat(service_order: ServiceOrder, *, last: int = 5) -> dict[str, Any]:
    """Form defaults from a conversation: its customer and a title and description drafted
    from what the customer said last (oldest first, so it reads as they wrote it)."""
    said = list(
        Message.objects.filter(
            conversation_id=service_order.conversation_id, sender=Message.Sender.CUSTOMER
        )
        .exclude(text="")
        .order_by("-seq")
        .values_list("text", flat=True)[:last]
    )[::-1]
    if said:
        first_line = said[-1].strip().splitlines()[0]
        title = first_line if len(first_line) <= 80 else first_line[:79] + "…"
    else:
        title = _("Follow-up on service order %(number)s") % {"number": service_order.number}
    customer = service_order.customer
    return {
        "title": title,
        "description": "\n".join(said),
        "customer": customer.external_id if customer else "",
    }


def tickets_of_service_order(*, user: Any, service_order: ServiceOrder) -> QuerySet[Ticket]:
    return (
        ticket_base_for(user=user)
        .filter(service_order=service_order)
        .select_related("group", "assignee")
        .order_by("-id")
    )


def groups_for_submit(*, user: Any) -> QuerySet[SkillGroup]:
    """Groups a ticket may be addressed to: the user's shop groups and every platform group."""
    return SkillGroup.objects.filter(is_active=True).filter(
        Q(pk__in=restrict(SkillGroup.objects.all(), user=user).values("pk")) | Q(shop__isnull=True)
    )


def group_members(group_id: int) -> QuerySet[User]:
    return User.objects.filter(group_memberships__group_id=group_id, is_active=True).order_by(
        "display_name", "username"
    )


def group_members_for(*, user: Any, group_id: int) -> QuerySet[User]:
    """Members a user may pick: a merchant sees only colleagues of their shops."""
    return restrict(group_members(group_id), user=user)


def saved_views_for(*, user: Any) -> QuerySet[SavedView]:
    """The user's own saved list views (nobody sees another's)."""
    return SavedView.objects.filter(user_id=user.pk)


# --- who receives a ticket ------------------------------------------------------------------

S = Ticket.Status
# Who holds the work: these count as a person's open tickets when balancing load.
WORKING = (S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD)
# On duty for tickets: online or away. Tickets wait hours, not seconds, so a short "away"
# (lunch, a meeting) does not make someone unfit to receive one; offline does. Those who
# receive tickets off a seat (duty_off_seat: they never chat) count as on duty whenever
# their group's calendar is open, which ticket_auto_assign checks first.
ON_DUTY = (AgentProfile.State.ONLINE, AgentProfile.State.AWAY)


def on_duty_members(group_id: int) -> QuerySet[User]:
    """Members of a group who may receive a ticket now (calendar aside)."""
    # Exists, not a join: a join on groups would multiply the open-ticket count below.
    off_seat = User.objects.filter(pk=OuterRef("pk")).filter(with_capability_q("duty_off_seat"))
    return User.objects.filter(
        Q(agent_profile__state__in=ON_DUTY) | Q(Exists(off_seat)),
        group_memberships__group_id=group_id,
        is_active=True,
    )


def pick_assignee(ticket: Ticket, *, exclude: Iterable[int] = ()) -> User | None:
    """The member to give the ticket to, or None when nobody on duty can take it.

    Preference: the order's owner; then whoever handled earlier tickets of the same order;
    then the member with the fewest open tickets (online before away, then by id)."""
    excluded = set(exclude)
    candidates = (
        on_duty_members(ticket.group_id)
        .exclude(pk__in=excluded)
        .annotate(
            open_count=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=WORKING))
        )
        .order_by("open_count", "-agent_profile__state", "pk")  # "online" > "away"
    )
    people = list(candidates)
    if not people:
        return None
    by_id = {p.pk: p for p in people}
    if ticket.order_id:
        owner_id = Order.objects.filter(pk=ticket.order_id).values_list("owner_id", flat=True)
        owner = by_id.get(owner_id.first() or 0)
        if owner is not None:
            return owner
        earlier = (
            Ticket.objects.filter(order_id=ticket.order_id, assignee_id__in=by_id)
            .exclude(pk=ticket.pk)
            .order_by("-created_at", "-id")
            .values_list("assignee_id", flat=True)
            .first()
        )
        if earlier:
            return by_id[earlier]
    return people[0]


def sla_event_recipients(event: SlaEvent) -> list[User]:
    """Reminders go to the assignee (the group's leads if nobody holds it); breaches to
    the assignee and the leads."""
    ticket = event.ticket
    leads = list(group_leads(ticket.group_id))
    people: list[User] = []
    if ticket.assignee_id and ticket.assignee is not None:
        people.append(ticket.assignee)
    if event.kind == SlaEvent.Kind.BREACH or not people:
        people += [p for p in leads if p.pk != ticket.assignee_id]
    return people

"""Ticket pages: thin views over tickets.selectors (reads) and tickets.services (writes)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.capabilities import may
from agents.sections import section_view
from core.files import file_response
from core.ratelimits import RateLimited
from core.types import AuthedRequest
from service_orders.models import ServiceOrder
from service_orders.selectors import service_order_get_for
from tickets import selectors
from tickets.filters import TicketFilter
from tickets.forms import (
    ANSWER_PREFIX,
    AssignForm,
    AttachForm,
    EditForm,
    ForwardForm,
    HoldForm,
    NoteForm,
    SavedViewForm,
    TicketCreateForm,
)
from tickets.models import Ticket
from tickets.services import assignment, content, lifecycle, saved_views
from tickets.services.errors import StaleTicketError, TicketError
from tickets.services.input import service_order_resolve, ticket_input_resolve
from tickets.services.state import allowed_actions


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@section_view("tickets")
def ticket_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    tabs = selectors.tabs_for(user)
    tab = request.GET.get("tab", "mine")
    if tab not in tabs:
        tab = "mine"
    params = request.GET.copy()
    for key in ("after", "before", "tab"):
        params.pop(key, None)
    filterset = TicketFilter(
        params, queryset=selectors.ticket_list_for(user=user, tab=tab), user=user
    )
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = selectors.list_rows_page(
        qs, after=_int(request.GET.get("after")), before=_int(request.GET.get("before"))
    )
    filterset.use_cached_choices()
    base = params.urlencode()

    def link(**extra: Any) -> str:
        query = params.copy()
        query["tab"] = tab
        for key, value in extra.items():
            query[key] = str(value)
        return "?" + query.urlencode()

    return render(
        request,
        "tickets/list.html",
        {
            "filter": filterset,
            "page": page,
            "tab": tab,
            "tabs": [(t, _tab_label(t)) for t in tabs],
            "filter_query": base,
            "older_url": link(after=page.older) if page.older else "",
            "newer_url": link(before=page.newer) if page.newer else "",
            "group_counts": selectors.group_counts_for(user=user),
            "counts_tab": "all" if "all" in tabs else "groups",
            "saved_views": selectors.saved_views_for(user=user),
            "save_form": SavedViewForm(
                initial={"querystring": urlencode({**params.dict(), "tab": tab})}
            ),
        },
    )


def _tab_label(tab: str) -> str:
    return {"mine": _("My tickets"), "groups": _("My groups"), "all": _("All")}[tab]


def _detail_context(
    request: AuthedRequest, ticket: Ticket, posted: QueryDict | None = None
) -> dict[str, Any]:
    user = request.user
    version = {"version": ticket.version}
    other_groups = selectors.groups_for_submit(user=user).exclude(pk=ticket.group_id)
    if ticket.shop_id:
        other_groups = other_groups.filter(shop_id__in=[ticket.shop_id]) | other_groups.filter(
            shop__isnull=True
        )
    text = posted.get("text", "") if posted else ""
    timeline = selectors.timeline_for(ticket)
    watchers = list(ticket.watchers.all())
    return {
        "ticket": ticket,
        "timeline": timeline,
        "holdings": selectors.holdings_from(timeline),
        "attachments": list(ticket.attachments.all()),
        "watchers": watchers,
        "is_watching": any(w.pk == user.pk for w in watchers),  # no second query
        "can_work": may(user, "work", ticket),
        "can_supervise": may(user, "supervise", ticket),
        "allowed": allowed_actions(ticket),
        "note_form": NoteForm(initial={**version, "text": text}),
        "forward_form": ForwardForm(initial={**version, "text": text}, groups=other_groups),
        "assign_form": AssignForm(initial=version, people=selectors.group_members(ticket.group_id)),
        "hold_form": HoldForm(initial=version),
        "attach_form": AttachForm(),
        "edit_form": EditForm(
            initial={
                **version,
                "title": ticket.title,
                "priority": ticket.priority,
                "category": ticket.category_id,
            }
        ),
    }


@section_view("tickets")
def ticket_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    ticket = selectors.ticket_get_for(user=request.user, pk=pk)
    return render(request, "tickets/detail.html", _detail_context(request, ticket))


@require_POST
@section_view("tickets")
def ticket_act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """One endpoint per action; each calls exactly one service. On a refusal the page is
    shown again with the message and the text the user typed, so nothing is lost."""
    user = request.user
    ticket = selectors.ticket_get_for(user=user, pk=pk)
    data = request.POST
    version = _int(data.get("version"))
    text = data.get("text", "")
    try:
        if action == "accept":
            lifecycle.ticket_accept(ticket=ticket, actor=user, version=version)
        elif action == "reply":
            content.ticket_reply(ticket=ticket, actor=user, text=text, version=version)
        elif action == "comment":
            content.ticket_comment(ticket=ticket, actor=user, text=text)
        elif action == "forward":
            groups = selectors.groups_for_submit(user=user)
            group = groups.filter(pk=_int(data.get("group")) or 0).first()
            if group is None:
                raise TicketError(_("Pick the group to forward to."))
            lifecycle.ticket_forward(
                ticket=ticket, to_group=group, actor=user, note=text, version=version
            )
        elif action == "assign":
            person = (
                selectors.group_members(ticket.group_id)
                .filter(pk=_int(data.get("assignee")) or 0)
                .first()
            )
            if person is None:
                raise TicketError(_("Pick a member of the group."))
            assignment.ticket_assign(
                ticket=ticket, assignee=person, actor=user, version=version, note=text
            )
        elif action == "hold":
            lifecycle.ticket_hold(
                ticket=ticket, actor=user, reason=data.get("reason", ""), note=text, version=version
            )
        elif action == "resume":
            lifecycle.ticket_resume(ticket=ticket, actor=user, version=version)
        elif action == "resolve":
            lifecycle.ticket_resolve(ticket=ticket, actor=user, note=text, version=version)
        elif action == "close":
            lifecycle.ticket_close(ticket=ticket, actor=user, version=version)
        elif action == "reopen":
            lifecycle.ticket_reopen(ticket=ticket, actor=user, note=text, version=version)
        elif action == "update":
            form = EditForm(data)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            content.ticket_update(
                ticket=ticket,
                actor=user,
                version=version,
                title=form.cleaned_data["title"],
                priority=form.cleaned_data["priority"],
                category=form.cleaned_data["category"],
            )
        elif action == "attach":
            upload = request.FILES.get("file")
            if upload is None:
                raise TicketError(_("Choose a file first."))
            content.ticket_attach(ticket=ticket, actor=user, upload=upload)
        elif action == "watch":
            content.ticket_watch(ticket=ticket, user=user, watch=data.get("watch") == "1")
        else:
            raise Http404
    except (TicketError, ValidationError, RateLimited) as error:
        if isinstance(error, TicketError | RateLimited):
            message = error.message
        else:
            message = " ".join(error.messages)
        messages.error(request, message)
        status = 400
        if isinstance(error, StaleTicketError):
            status = 409
        elif isinstance(error, RateLimited):
            status = 429
        fresh = selectors.ticket_get_for(user=user, pk=pk)
        response = render(
            request, "tickets/detail.html", _detail_context(request, fresh, data), status=status
        )
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response
    return redirect("tickets:detail", pk=ticket.pk)


@section_view("tickets")
def attachment_download(request: AuthedRequest, pk: int, attachment_pk: int) -> HttpResponse:
    attachment = selectors.attachment_get_for(user=request.user, ticket_pk=pk, pk=attachment_pk)
    return file_response(
        attachment.file,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )


@section_view("tickets")
def ticket_pick_type(request: AuthedRequest) -> HttpResponse:
    types = selectors.ticket_types_for(user=request.user)
    return render(request, "tickets/pick_type.html", {"types": types})


def _service_order_for(request: AuthedRequest, pk: int) -> ServiceOrder:
    """The chat a "ticket from this chat" click starts from: the user must be allowed to
    read service orders (the draft quotes the chat), and it must be in their shops (404)."""
    if not may(request.user, "view_service_orders"):
        raise PermissionDenied
    return service_order_get_for(user=request.user, pk=pk)


@section_view("tickets")
def ticket_from_conversation(request: AuthedRequest, so_pk: int) -> HttpResponse:
    """Click one in the workbench: the create page of the default type, linked to the chat."""
    service_order = _service_order_for(request, so_pk)
    ticket_type = selectors.default_type_for_chat(user=request.user)
    if ticket_type is None:
        messages.error(request, _("No ticket type is in use yet; ask an admin to add one."))
        return redirect("tickets:pick_type")
    url = reverse("tickets:create", args=[ticket_type.pk])
    return redirect(f"{url}?{urlencode({'service_order': service_order.pk})}")


@section_view("tickets")
def ticket_create(request: AuthedRequest, type_pk: int) -> HttpResponse:
    """The create form; its references are resolved by the same service as the API's
    (tickets.services.input), so both refuse and accept the same things alike."""
    user = request.user
    ticket_type = get_object_or_404(selectors.ticket_types_for(user=user), pk=type_pk)
    groups = selectors.groups_for_submit(user=user)
    group_id = _int(request.POST.get("group")) or ticket_type.default_group_id or 0
    # The query string survives the POST (the form posts back to this same URL).
    so_pk = _int(request.GET.get("service_order"))
    service_order = None
    link_errors: list[str] = []
    if so_pk:
        try:
            service_order = service_order_resolve(user=user, pk=so_pk)
        except ValidationError as error:
            link_errors = error.messages
    form = TicketCreateForm(
        request.POST or None,
        ticket_type=ticket_type,
        groups=groups,
        people=selectors.group_members_for(user=user, group_id=group_id),
        initial=selectors.draft_from_chat(service_order) if service_order else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        link_errors = []  # the resolver reports them on the form now
        try:
            resolved = ticket_input_resolve(
                user=user,
                ticket_type=ticket_type,
                data={
                    "group": data["group"].pk,
                    "assignee": data["assignee"].pk if data["assignee"] else None,
                    "category": data["category"].pk if data["category"] else None,
                    "customer": data["customer"],
                    "order_no": data.get("order_no", ""),
                    "service_order": so_pk,
                    "answers": form.answers(),
                },
            )
            ticket = lifecycle.ticket_create(
                ticket_type=ticket_type,
                title=data["title"],
                description=data["description"],
                priority=data["priority"],
                group=resolved.group,
                assignee=resolved.assignee,
                order=resolved.order,
                customer=resolved.customer,
                category=resolved.category,
                answers=resolved.answers,
                submitter=user,
                service_order=resolved.service_order,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except TicketError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Ticket #%(id)s was created.") % {"id": ticket.pk})
            return redirect("tickets:detail", pk=ticket.pk)
    return render(
        request,
        "tickets/create.html",
        {
            "form": form,
            "ticket_type": ticket_type,
            "service_order": service_order,
            "link_errors": link_errors,
        },
    )


def _add_errors(form: TicketCreateForm, error: ValidationError) -> None:
    """Put a service's errors on the form: a field's on the field (an answer's on its
    f_<key> field), the rest (service_order, order, …) above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        name = key if key in form.fields else f"{ANSWER_PREFIX}{key}"
        form.add_error(name if name in form.fields else None, errors)


@section_view("tickets")
def group_member_options(request: AuthedRequest) -> HttpResponse:
    """The create form's person picker for another group (static/tickets/create.js)."""
    groups = selectors.groups_for_submit(user=request.user)
    group = get_object_or_404(groups, pk=_int(request.GET.get("group")) or 0)
    people = selectors.group_members_for(user=request.user, group_id=group.pk)
    return render(request, "tickets/_member_options.html", {"people": people})


@require_POST
@section_view("tickets")
def saved_view_create(request: AuthedRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if form.is_valid():
        try:
            view = saved_views.saved_view_save(
                user=request.user,
                name=form.cleaned_data["name"],
                querystring=form.cleaned_data["querystring"],
            )
        except ValidationError:
            pass
        else:
            messages.success(request, _("View saved."))
            return redirect(f"{reverse('tickets:list')}?{view.querystring}")
    messages.error(request, _("Give the view a name."))
    return redirect("tickets:list")


@require_POST
@section_view("tickets")
def saved_view_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    saved_views.saved_view_delete(user=request.user, pk=pk)
    return redirect("tickets:list")

"""Quick send (快捷回复) for the workbench: canned replies and knowledge suggestions as JSON.

Thin views: parse, call a knowledge selector or service, answer JSON. The workbench page
(owned by the live-chat work) fetches these as the agent types.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from agents.sections import section_view
from core.types import AuthedRequest
from knowledge.forms import PersonalCannedReplyForm
from knowledge.models import CannedReply
from knowledge.selectors import (
    canned_replies_for,
    canned_reply_get_for,
    canned_reply_personal_get_for,
    knowledge_suggestions_for,
)
from knowledge.services import (
    canned_reply_create_personal,
    canned_reply_delete_personal,
    canned_reply_update_personal,
    canned_reply_used,
)

MAX_SUGGESTIONS = 10


def _reply_json(reply: CannedReply) -> dict[str, object]:
    return {
        "id": reply.pk,
        "title": reply.title,
        "text": reply.text,
        "shortcut": reply.shortcut,
        "scope": reply.scope,
        "group": reply.group.name if reply.group_id and reply.group else None,
        "usage_count": reply.usage_count,
    }


def _errors(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


@require_GET
@section_view("workbench")
def canned(request: AuthedRequest) -> JsonResponse:
    """GET ?q= : the agent's canned replies; "/ref" matches shortcuts by prefix."""
    replies = canned_replies_for(user=request.user, query=request.GET.get("q", ""))
    return JsonResponse({"results": [_reply_json(r) for r in replies]})


@require_POST
@section_view("workbench")
def canned_create(request: AuthedRequest) -> JsonResponse:
    """POST title, text, shortcut: save a personal canned reply."""
    form = PersonalCannedReplyForm(request.POST)
    if not form.is_valid():
        return _errors({k: [str(m) for m in v] for k, v in form.errors.items()})
    try:
        reply = canned_reply_create_personal(owner=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc.message_dict)
    return JsonResponse(_reply_json(reply), status=201)


@require_POST
@section_view("workbench")
def canned_edit(request: AuthedRequest, pk: int) -> JsonResponse:
    """POST title, text, shortcut: change one of your personal replies."""
    reply = canned_reply_personal_get_for(user=request.user, pk=pk)
    form = PersonalCannedReplyForm(request.POST)
    if not form.is_valid():
        return _errors({k: [str(m) for m in v] for k, v in form.errors.items()})
    try:
        reply = canned_reply_update_personal(reply=reply, user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _errors(exc.message_dict)
    return JsonResponse(_reply_json(reply))


@require_POST
@section_view("workbench")
def canned_delete(request: AuthedRequest, pk: int) -> JsonResponse:
    """POST: delete one of your personal replies."""
    reply = canned_reply_personal_get_for(user=request.user, pk=pk)
    canned_reply_delete_personal(reply=reply, user=request.user)
    return JsonResponse({"id": pk, "deleted": True})


@require_POST
@section_view("workbench")
def canned_use(request: AuthedRequest, pk: int) -> JsonResponse:
    """POST: the agent sent this reply; count it (orders the list by use)."""
    reply = canned_reply_get_for(user=request.user, pk=pk)
    count = canned_reply_used(reply=reply, user=request.user)
    return JsonResponse({"id": reply.pk, "usage_count": count})


def _optional_int(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404 from None


@require_GET
@section_view("workbench")
def knowledge(request: AuthedRequest) -> JsonResponse:
    """GET ?text=&shop=&limit= : knowledge answers for a customer's message."""
    limit = _optional_int(request.GET.get("limit")) or 3
    suggestions = knowledge_suggestions_for(
        user=request.user,
        text=request.GET.get("text", ""),
        limit=max(1, min(limit, MAX_SUGGESTIONS)),
        shop_id=_optional_int(request.GET.get("shop")),
    )
    return JsonResponse({"results": [s.as_dict() for s in suggestions]})

"""The customer side over HTTP: visitor sessions, uploads, downloads, the chat pages.

These endpoints serve anonymous visitors from any site that embeds the widget: they use
the visitor token (a bearer secret in a header), never cookies, so they are CSRF-exempt.
"""

from __future__ import annotations

import json
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from agents.access import restrict
from agents.sections import SECTIONS_BY_KEY, user_may_enter
from core.addresses import client_address
from core.files import file_response
from workbench import selectors
from workbench.errors import ChatError
from workbench.models import ChannelAccount, Message
from workbench.payloads import message_payload
from workbench.services.messages import (
    ALLOWED_ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    message_send,
)
from workbench.services.visitors import identity_hash, visitor_message_send, visitor_open

STATUS_FOR = {"unknown_channel": 404, "identity_invalid": 403, "not_authenticated": 401}


def _error(error: ChatError) -> JsonResponse:
    return JsonResponse(
        {"error": error.code, "message": error.message}, status=STATUS_FOR.get(error.code, 400)
    )


@csrf_exempt
@require_POST
def session(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    fields = ("channel", "visitor_token", "customer_id", "customer_hash")
    if not isinstance(body, dict) or not all(isinstance(body.get(f, ""), str) for f in fields):
        return _error(ChatError("bad_request", _("Send a JSON object with string fields.")))
    try:
        channel = selectors.channel_get_active(key=body.get("channel", ""))
        opened = visitor_open(
            channel=channel,
            token=body.get("visitor_token", ""),
            customer_id=body.get("customer_id", ""),
            customer_hash=body.get("customer_hash", ""),
            address=client_address(request),
        )
    except ChatError as error:
        return _error(error)
    return JsonResponse(
        {
            "visitor_token": opened.token,
            "identified": opened.identified,
            "channel": {"name": channel.name, "greeting": channel.greeting},
            "socket": "/ws/chat/visitor/",
        }
    )


def _uploaded(message: Message, client_id: str, *, agent_name: str = "") -> JsonResponse:
    return JsonResponse(
        {
            "client_id": client_id,
            "id": message.pk,
            "seq": message.seq,
            "conversation_id": message.conversation_id,
            "message": message_payload(message, agent_name=agent_name),
        }
    )


def upload_response(request: HttpRequest, **send: Any) -> JsonResponse:
    """An agent's file into a conversation (workbench.views.api_upload)."""
    upload = request.FILES.get("file")
    client_id = request.POST.get("client_id", "")
    if upload is None:
        return _error(ChatError("file_missing", _("Choose a file to send.")))
    try:
        message, _created = message_send(
            client_id=client_id, text=request.POST.get("text", ""), attachment=upload, **send
        )
    except ChatError as error:
        return _error(error)
    agent = send.get("agent")
    return _uploaded(message, client_id, agent_name=agent.name if agent else "")


@csrf_exempt
@require_POST
def visitor_attachment(request: HttpRequest) -> JsonResponse:
    visitor = selectors.visitor_from_token(token=request.headers.get("X-Visitor-Token", ""))
    if visitor is None:
        return _error(ChatError("not_authenticated", _("Unknown visitor token.")))
    upload = request.FILES.get("file")
    client_id = request.POST.get("client_id", "")
    if upload is None:
        return _error(ChatError("file_missing", _("Choose a file to send.")))
    try:
        sent = visitor_message_send(
            visitor=visitor,
            client_id=client_id,
            text=request.POST.get("text", ""),
            attachment=upload,
            address=client_address(request),
        )
    except ChatError as error:
        return _error(error)
    return _uploaded(sent.message, client_id)


@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A chat file, for the conversation's participants only: its visitor (token header)
    or a back-office user who may see the conversation."""
    message = Message.objects.select_related("conversation").filter(pk=pk).first()
    if message is None or not message.attachment:
        raise Http404
    allowed = False
    visitor = selectors.visitor_from_token(token=request.headers.get("X-Visitor-Token", ""))
    if visitor is not None:
        allowed = (
            selectors.visitor_conversation(visitor=visitor, pk=message.conversation_id) is not None
        )
    elif request.user.is_authenticated and user_may_enter(
        request.user, SECTIONS_BY_KEY["service_orders"]
    ):
        allowed = (
            restrict(type(message.conversation).objects.all(), user=request.user)
            .filter(pk=message.conversation_id)
            .exists()
        )
    if not allowed:
        raise Http404
    return file_response(
        message.attachment,
        content_type=message.attachment_type,
        as_attachment=not message.attachment_type.startswith("image/"),
        filename=message.attachment_name,
        # The widget fetches with its token in a header: stream, so the token never
        # follows a redirect to the storage host. Agents' links and images may redirect.
        redirect=visitor is None,
    )


def _active_channel(key: str) -> ChannelAccount:
    try:
        return selectors.channel_get_active(key=key)
    except ChatError:
        raise Http404 from None


# Shops embed the chat page in an iframe on their own sites.
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]
@require_GET
def chat_page(request: HttpRequest, key: str) -> HttpResponse:
    channel = _active_channel(key)
    return render(
        request,
        "workbench/chat_page.html",
        {
            "channel": channel,
            "embedded": request.GET.get("embed") == "1",
            "attachment_rules": attachment_rules(),
            "labels": chat_labels(),
        },
    )


def attachment_rules() -> dict[str, Any]:
    """The upload rules for the pages (json_script): they warn before sending; the server's
    check (workbench.services.messages.check_attachment) is the one that decides."""
    types = {t: list(suffixes) for t, suffixes in ALLOWED_ATTACHMENT_TYPES.items()}
    return {
        "max_bytes": MAX_ATTACHMENT_BYTES,
        "types": types,
        # The file input's accept attribute.
        "accept": ",".join([*types, *(s for suffixes in types.values() for s in suffixes)]),
    }


def chat_labels() -> dict[str, str]:
    """The chat script's texts, translated here (the script itself holds no words)."""
    return {
        "connecting": _("Connecting…"),
        "online": _("We are here to help"),
        "offline": _("Connection lost. Reconnecting…"),
        "queued": _("You are number %(n)s in the queue. An agent will be with you shortly."),
        "active": _("You are chatting with %(name)s"),
        "closed": _("This conversation has ended. Write again to start a new one."),
        "sending": _("Sending…"),
        "read": _("Read"),
        "uploading": _("Uploading %(name)s…"),
        "too_large": _("Files may be at most %(mb)d MB.")
        % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
        "bad_type": _("Only images (PNG, JPEG, GIF, WebP), PDF and plain text files can be sent."),
        "failed": _("Could not send: %(reason)s"),
        "download": _("Download"),
        "agent": _("Agent"),
        "system": _("Notice"),
        "rate_thanks": _("Thank you for your rating!"),
        "pick_stars": _("Choose 1 to 5 stars first."),
    }


@require_GET
def demo_host(request: HttpRequest) -> HttpResponse:
    """A pretend shop page with the widget's one script tag (make demo)."""
    channels = ChannelAccount.objects.filter(is_active=True).select_related("shop")
    chosen = channels.filter(key=request.GET.get("channel", "")).first() or channels.first()
    # Playing the shop's server: sign a customer id so the widget identifies them. Only in
    # development (make demo) — on a real installation this page must not vouch for anyone.
    customer_id = request.GET.get("customer", "")[:64] if settings.DEBUG else ""
    customer_hash = ""
    if customer_id and chosen is not None and chosen.identity_secret:
        customer_hash = identity_hash(chosen.identity_secret, customer_id)
    return render(
        request,
        "workbench/chat_demo.html",
        {
            "channels": channels,
            "channel": chosen,
            "customer_id": customer_id if customer_hash else "",
            "customer_hash": customer_hash,
            "debug": settings.DEBUG,
        },
    )

"""The tickets REST API: thin views over tickets.selectors (reads) and tickets.services
(writes), scoped exactly like the pages. Service refusals become 400 (bad input), 403
(not yours to do), 409 (stale version or a transition the state does not allow)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from agents.capabilities import may
from agents.models import User
from tickets import selectors
from tickets.api import idempotency
from tickets.api.errors import BadRequest, KeyReused, service_errors
from tickets.api.serializers import (
    AssignSerializer,
    CommentSerializer,
    ErrorSerializer,
    ForwardSerializer,
    HoldSerializer,
    NoteSerializer,
    TextSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketListSerializer,
    TicketTypeSerializer,
    TicketUpdateSerializer,
    ValidationErrorSerializer,
    VersionSerializer,
)
from tickets.filters import TicketFilter
from tickets.models import Ticket, TicketCategory, TicketType
from tickets.services import assignment, content, lifecycle
from tickets.services.input import ticket_input_resolve, ticket_type_resolve


class CanUseTickets(BasePermission):
    """The same permission the Tickets section checks (every role but none has it)."""

    message = gettext_lazy("Your role has no access to tickets.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return may(request.user, "view_tickets")


class TicketCursor(CursorPagination):
    """Keyset pages on the primary key, newest first: `id < cursor` walks the primary-key
    index, so a deep page costs what the first does and nothing is counted. Ids grow with
    created_at, so this is the same order the list page shows."""

    ordering = "-id"
    page_size = selectors.PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 100


class UserFilterBackend(DjangoFilterBackend):
    """The list page's FilterSet, whose choice lists are scoped to the user."""

    def get_filterset_kwargs(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> dict[str, Any]:
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["user"] = request.user
        return kwargs


ERRORS: dict[int, Any] = {
    400: OpenApiResponse(ValidationErrorSerializer, description="Invalid input."),
    401: OpenApiResponse(ErrorSerializer, description="No or bad credentials."),
    403: OpenApiResponse(ErrorSerializer, description="Your role may not do this."),
    404: OpenApiResponse(ErrorSerializer, description="No such ticket that you may see."),
}
CONFLICT = {
    409: OpenApiResponse(
        ErrorSerializer,
        description="Stale `version` (someone changed the ticket) or a transition the "
        "ticket's status does not allow.",
    )
}
TICKET_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _action_schema(
    request: type[BaseSerializer[Any]], summary: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return extend_schema(
        summary=summary,
        request=request,
        parameters=[TICKET_ID],
        responses={200: TicketDetailSerializer, **ERRORS, **CONFLICT},
    )


class TicketViewSet(viewsets.GenericViewSet[Ticket]):
    """Tickets the caller may see (same scope as the pages; another shop's are 404)."""

    permission_classes = [IsAuthenticated, CanUseTickets]
    parser_classes = [JSONParser]
    pagination_class = TicketCursor
    filter_backends = [UserFilterBackend]
    filterset_class = TicketFilter
    # Digits only, at most 18: a longer id could not exist and would overflow bigint.
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Ticket]:
        user = self.request.user
        qs = selectors.ticket_base_for(user=user)
        tab = self.request.query_params.get("tab", "")
        if tab in ("mine", "groups"):
            qs = selectors.ticket_list_for(user=user, tab=tab)
        return qs.select_related("group", "assignee", "ticket_type", "shop", "order")

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return TicketListSerializer if self.action == "list" else TicketDetailSerializer

    def get_object(self) -> Ticket:
        ticket = selectors.ticket_get_for(user=self.request.user, pk=int(self.kwargs["pk"]))
        self.check_object_permissions(self.request, ticket)
        return ticket

    def _detail(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.ticket_get_for(user=self.request.user, pk=ticket.pk)
        return Response(
            TicketDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def _input(self, serializer_class: type[BaseSerializer[Any]]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @property
    def actor(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user

    # --- reads ---------------------------------------------------------------------------

    @extend_schema(
        summary="List tickets",
        parameters=[
            OpenApiParameter(
                "tab",
                OpenApiTypes.STR,
                enum=["mine", "groups"],
                description="mine: assigned to you; groups: your groups'. "
                "Default: every ticket you may see.",
            )
        ],
        responses={200: TicketListSerializer(many=True), **ERRORS},
    )
    def list(self, request: Request) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(TicketListSerializer(page, many=True).data)

    @extend_schema(
        summary="A ticket with its type's answers and its timeline (nodes)",
        responses={200: TicketDetailSerializer, **ERRORS},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        return Response(TicketDetailSerializer(ticket, context=self.get_serializer_context()).data)

    # --- writes ----------------------------------------------------------------------------

    @extend_schema(
        summary="Create a ticket",
        request=TicketCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                pattern=idempotency.KEY_PATTERN.pattern,
                description="Retry-safe create: the same key with the same body returns the "
                "first answer (header Idempotent-Replayed: true) instead of a second "
                "ticket; with a different body, 422. Keys are kept 24 hours per user.",
            )
        ],
        responses={
            201: TicketDetailSerializer,
            **ERRORS,
            422: OpenApiResponse(
                ErrorSerializer, description="Idempotency-Key reused with another body."
            ),
        },
    )
    def create(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return self._detail(self._create(), status.HTTP_201_CREATED)
        if not idempotency.KEY_PATTERN.match(key):
            raise BadRequest(
                _("An Idempotency-Key is 1 to 255 printable ASCII characters without spaces.")
            )

        def create() -> tuple[int, Any]:
            response = self._detail(self._create(), status.HTTP_201_CREATED)
            return response.status_code, response.data

        try:
            code, body, replayed = idempotency.run_once(
                user=self.actor,
                key=key,
                fingerprint=idempotency.fingerprint(request.data),
                create=create,
            )
        except idempotency.KeyReusedError:
            raise KeyReused from None
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(body, status=code, headers=headers)

    def _create(self) -> Ticket:
        """Parse, resolve the references as the create page does, create."""
        data = self._input(TicketCreateSerializer)
        user = self.actor
        with service_errors():
            ticket_type = ticket_type_resolve(user=user, pk=data["ticket_type"])
            resolved = ticket_input_resolve(user=user, ticket_type=ticket_type, data=data)
            return lifecycle.ticket_create(
                ticket_type=ticket_type,
                title=data["title"],
                description=data["description"],
                priority=data["priority"],
                group=resolved.group,
                assignee=resolved.assignee,
                customer=resolved.customer,
                order=resolved.order,
                category=resolved.category,
                answers=resolved.answers,
                submitter=user,
                service_order=resolved.service_order,
            )

    @extend_schema(
        summary="Edit title, description, priority, category or answers (needs `version`)",
        request=TicketUpdateSerializer,
        responses={200: TicketDetailSerializer, **ERRORS, **CONFLICT},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(TicketUpdateSerializer)
        category = None
        if "category" in data:
            category = TicketCategory.objects.filter(pk=data["category"]).first()
            if category is None:
                raise exceptions.ValidationError({"category": [_("No category with this id.")]})
        with service_errors():
            content.ticket_update(
                ticket=ticket,
                actor=self.actor,
                version=data["version"],
                title=data.get("title"),
                description=data.get("description"),
                priority=data.get("priority"),
                category=category,
                answers=data.get("answers"),
            )
        return self._detail(ticket)

    # --- actions: one service each ----------------------------------------------------------

    @_action_schema(CommentSerializer, "Add an internal comment")
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(CommentSerializer)
        with service_errors():
            content.ticket_comment(ticket=ticket, actor=self.actor, text=data["text"])
        return self._detail(ticket)

    @_action_schema(TextSerializer, "Reply to the customer (emailed when they have an address)")
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(TextSerializer)
        with service_errors():
            content.ticket_reply(
                ticket=ticket, actor=self.actor, text=data["text"], version=data.get("version")
            )
        return self._detail(ticket)

    @_action_schema(ForwardSerializer, "Forward to another group, with a note")
    @action(detail=True, methods=["post"])
    def forward(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(ForwardSerializer)
        to_group = selectors.groups_for_submit(user=self.actor).filter(pk=data["to_group"]).first()
        if to_group is None:
            raise exceptions.ValidationError({"to_group": [_("Pick the group to forward to.")]})
        with service_errors():
            lifecycle.ticket_forward(
                ticket=ticket,
                to_group=to_group,
                actor=self.actor,
                note=data["note"],
                version=data.get("version"),
            )
        return self._detail(ticket)

    @_action_schema(AssignSerializer, "Assign to a member of the group (supervisors, leads)")
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(AssignSerializer)
        person = selectors.group_members(ticket.group_id).filter(pk=data["assignee"]).first()
        if person is None:
            raise exceptions.ValidationError({"assignee": [_("Pick a member of the group.")]})
        with service_errors():
            assignment.ticket_assign(
                ticket=ticket,
                assignee=person,
                actor=self.actor,
                note=data["note"],
                version=data.get("version"),
            )
        return self._detail(ticket)

    @_action_schema(VersionSerializer, "Take the ticket and start on it")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(VersionSerializer)
        with service_errors():
            lifecycle.ticket_accept(ticket=ticket, actor=self.actor, version=data.get("version"))
        return self._detail(ticket)

    @_action_schema(HoldSerializer, "Put on hold, waiting for the customer or a third party")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(HoldSerializer)
        with service_errors():
            lifecycle.ticket_hold(
                ticket=ticket,
                actor=self.actor,
                reason=data["reason"],
                note=data["note"],
                version=data.get("version"),
            )
        return self._detail(ticket)

    @_action_schema(VersionSerializer, "Resume a ticket on hold")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(VersionSerializer)
        with service_errors():
            lifecycle.ticket_resume(ticket=ticket, actor=self.actor, version=data.get("version"))
        return self._detail(ticket)

    @_action_schema(NoteSerializer, "Resolve, saying how")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(NoteSerializer)
        with service_errors():
            lifecycle.ticket_resolve(
                ticket=ticket, actor=self.actor, note=data["note"], version=data.get("version")
            )
        return self._detail(ticket)

    @_action_schema(VersionSerializer, "Close a resolved ticket")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(VersionSerializer)
        with service_errors():
            lifecycle.ticket_close(ticket=ticket, actor=self.actor, version=data.get("version"))
        return self._detail(ticket)

    @_action_schema(NoteSerializer, "Reopen a resolved or closed ticket, saying why")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(NoteSerializer)
        with service_errors():
            lifecycle.ticket_reopen(
                ticket=ticket, actor=self.actor, note=data["note"], version=data.get("version")
            )
        return self._detail(ticket)

    @extend_schema(
        summary="Watch the ticket (you are told of its changes)",
        request=None,
        parameters=[TICKET_ID],
        responses={200: TicketDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def watch(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        content.ticket_watch(ticket=ticket, user=self.actor, watch=True)
        return self._detail(ticket)

    @extend_schema(
        summary="Stop watching the ticket",
        request=None,
        parameters=[TICKET_ID],
        responses={200: TicketDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def unwatch(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        content.ticket_watch(ticket=ticket, user=self.actor, watch=False)
        return self._detail(ticket)


class TicketTypeViewSet(viewsets.ReadOnlyModelViewSet[TicketType]):
    """Active ticket types and their fields: what `answers` a create needs."""

    permission_classes = [IsAuthenticated, CanUseTickets]
    serializer_class = TicketTypeSerializer
    pagination_class = None
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[TicketType]:
        return selectors.ticket_types_for(user=self.request.user)

    @extend_schema(responses={200: TicketTypeSerializer(many=True), **ERRORS})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: TicketTypeSerializer, **ERRORS})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

"""What the tickets API reads and writes. Input serializers only parse; the services in
tickets/services/ resolve references (input.py, as for the create page) and decide."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.text import find_unstorable
from tickets.models import Priority, Ticket, TicketAttachment, TicketNode

# Bounds for free text: what the models and forms accept, so bad input is a 400, not a
# database error.
TITLE_MAX = 200
TEXT_MAX = 20000
VERSION_MAX = 2**31 - 1
ID_MAX = 2**63 - 1


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ShopRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()


class TicketListSerializer(serializers.ModelSerializer[Ticket]):
    type = NamedSerializer(source="ticket_type")
    group = NamedSerializer()
    assignee = PersonSerializer(allow_null=True)
    shop = ShopRefSerializer(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)
    order_no = serializers.SerializerMethodField()
    sla_state = serializers.CharField(
        help_text="ok / due_soon / breached / paused / none (no running clock)"
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "title",
            "status",
            "hold_reason",
            "priority",
            "type",
            "group",
            "assignee",
            "shop",
            "customer_id",
            "order_no",
            "sla_state",
            "sla_due",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_order_no(self, ticket: Ticket) -> str | None:
        return ticket.order.order_no if ticket.order_id and ticket.order else None


class NodeSerializer(serializers.ModelSerializer[TicketNode]):
    actor = PersonSerializer(allow_null=True)
    group = NamedSerializer(allow_null=True)
    assignee = PersonSerializer(allow_null=True)

    class Meta:
        model = TicketNode
        fields = ["id", "action", "actor", "group", "assignee", "status", "comment", "created_at"]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute
    kind = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a field named like a Field attribute
    value = serializers.JSONField(allow_null=True)


class ServiceOrderRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="As shown to people, e.g. SO00000042.")


class AttachmentSerializer(serializers.ModelSerializer[TicketAttachment]):
    download_url = serializers.SerializerMethodField(
        help_text="The ticket page's download link: it checks, like the page, that the "
        "signed-in user may see the ticket (a browser session; see docs/api.md)."
    )

    class Meta:
        model = TicketAttachment
        fields = ["id", "name", "size", "content_type", "created_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: TicketAttachment) -> str:
        path = reverse("tickets:attachment", args=[attachment.ticket_id, attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class TicketDetailSerializer(TicketListSerializer):
    submitter = PersonSerializer(allow_null=True)
    category = NamedSerializer(allow_null=True)
    service_order = ServiceOrderRefSerializer(
        allow_null=True, help_text="The live-chat service order the ticket came from."
    )
    watchers = PersonSerializer(many=True, source="watchers.all")
    attachments = AttachmentSerializer(many=True, source="attachments.all")
    answers = serializers.SerializerMethodField()
    nodes = serializers.SerializerMethodField()

    class Meta(TicketListSerializer.Meta):
        fields = [
            *TicketListSerializer.Meta.fields,
            "description",
            "submitter",
            "category",
            "service_order",
            "watchers",
            "attachments",
            "answers",
            "first_response_due",
            "resolution_due",
            "assigned_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "nodes",
        ]
        read_only_fields = fields

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, ticket: Ticket) -> list[dict[str, Any]]:
        """The type's fields in order, each with the stored answer (null when empty)."""
        return [
            {
                "key": f.key,
                "label": f.label,
                "kind": f.kind,
                "required": f.required,
                "value": ticket.answers.get(f.key),
            }
            for f in ticket.ticket_type.fields.all()
        ]

    @extend_schema_field(NodeSerializer(many=True))
    def get_nodes(self, ticket: Ticket) -> Any:
        nodes = ticket.nodes.select_related("actor", "group", "assignee").order_by(
            "created_at", "id"
        )
        return NodeSerializer(nodes, many=True).data


# --- input ---------------------------------------------------------------------------------


def validate_answers(value: dict[Any, Any]) -> None:
    # The database cannot store NUL characters or lone surrogates; refuse them here,
    # before any lookup.
    if find_unstorable(value):
        raise serializers.ValidationError(
            _("Answers cannot contain NUL characters or broken Unicode.")
        )


class TicketCreateSerializer(serializers.Serializer):
    ticket_type = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="Id of an active ticket type."
    )
    title = serializers.CharField(max_length=TITLE_MAX)
    description = serializers.CharField(max_length=TEXT_MAX, required=False, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    group = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        help_text="Default: the type's group.",
    )
    assignee = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        help_text="A member of the group; default: the system assigns.",
    )
    category = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, allow_null=True
    )
    customer = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The customer's external id or phone.",
    )
    order_no = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="Links the order."
    )
    service_order = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        help_text="Links a service order (live chat) you may see; needs the service "
        "orders permission. The customer then hears back in that conversation.",
    )
    answers = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        validators=[validate_answers],
        help_text="The type's fields by key (see GET /api/v1/ticket-types/).",
    )


class TicketUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=VERSION_MAX, help_text="The version you read; 409 if stale."
    )
    title = serializers.CharField(max_length=TITLE_MAX, required=False)
    description = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    answers = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        required=False,
        validators=[validate_answers],
        help_text="Merged into the stored answers; null clears one.",
    )


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=VERSION_MAX,
        required=False,
        allow_null=True,
        help_text="The version you read: the change is refused with 409 if the ticket "
        "changed since. Leave it out to act on whatever is current.",
    )


class TextSerializer(VersionSerializer):
    text = serializers.CharField(max_length=TEXT_MAX)


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=TEXT_MAX)


class NoteSerializer(VersionSerializer):
    note = serializers.CharField(max_length=TEXT_MAX)


class ForwardSerializer(VersionSerializer):
    to_group = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="Id of the group to forward to."
    )
    note = serializers.CharField(max_length=TEXT_MAX, help_text="What the next group should do.")


class AssignSerializer(VersionSerializer):
    assignee = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, help_text="A member of the ticket's group."
    )
    note = serializers.CharField(max_length=TEXT_MAX, required=False, default="")


class HoldSerializer(VersionSerializer):
    reason = serializers.ChoiceField(choices=Ticket.HoldReason.choices)
    note = serializers.CharField(max_length=TEXT_MAX, required=False, default="")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What was refused and why.")


class ValidationErrorSerializer(serializers.Serializer):
    """Field name -> messages; `non_field_errors` for the request as a whole."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class TypeFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute
    kind = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a field named like a Field attribute
    options = serializers.ListField(child=serializers.CharField(), source="option_list")
    help_text = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute


class TicketTypeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    default_group = serializers.IntegerField(source="default_group_id", allow_null=True)
    fields = TypeFieldSerializer(many=True, source="fields.all")  # type: ignore[assignment]  # a field named like a Field attribute

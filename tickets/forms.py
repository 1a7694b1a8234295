"""Forms for the ticket pages. The create form is built from the ticket type's fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agents.models import SkillGroup, User
from core.widgets import QuickSelect
from tickets.fields import form_field_for
from tickets.models import Priority, Ticket, TicketCategory, TicketField, TicketType

ANSWER_PREFIX = "f_"


class TicketCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    group = forms.ModelChoiceField(label=_("Group"), queryset=SkillGroup.objects.none())
    assignee = forms.ModelChoiceField(
        label=_("Person (optional)"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Leave empty and the system picks a member of the group who is on duty."),
    )
    order_no = forms.CharField(label=_("Order number"), max_length=40, required=False)
    customer = forms.CharField(
        label=_("Customer (id or phone)"),
        max_length=64,
        required=False,
        help_text=_("Taken from the order when an order is linked."),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=TicketCategory.objects.all(), required=False
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(
        self,
        *args: Any,
        ticket_type: TicketType,
        groups: Any,
        people: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ticket_type = ticket_type
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]
        self.fields["group"].initial = ticket_type.default_group_id
        self.fields["category"].initial = ticket_type.category_id
        self.fields["assignee"].queryset = people  # type: ignore[attr-defined]
        for field in ticket_type.fields.all():
            self.fields[ANSWER_PREFIX + field.key] = form_field_for(field)
            if field.kind == TicketField.Kind.ORDER_NO:
                # The type asks for the order itself: no second order-number box.
                self.fields.pop("order_no", None)

    def answers(self) -> dict[str, Any]:
        """The raw typed answers, keyed by field key (the service validates them again)."""
        return {
            name[len(ANSWER_PREFIX) :]: value
            for name, value in self.cleaned_data.items()
            if name.startswith(ANSWER_PREFIX) and value not in (None, "")
        }

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(ANSWER_PREFIX)]

    def base_fields_bound(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(ANSWER_PREFIX)]


class NoteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ForwardForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    group = forms.ModelChoiceField(
        label=_("To group"), queryset=SkillGroup.objects.none(), widget=QuickSelect
    )
    text = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("What should the next group do?")}
        ),
    )

    def __init__(self, *args: Any, groups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(
        label=_("Person"), queryset=User.objects.none(), widget=QuickSelect
    )
    text = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people  # type: ignore[attr-defined]


class HoldForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        label=_("Waiting for"), choices=Ticket.HoldReason.choices, widget=QuickSelect
    )
    text = forms.CharField(label=_("Note"), required=False)


class EditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, widget=QuickSelect)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=TicketCategory.objects.all(),
        required=False,
        widget=QuickSelect,
    )


class AttachForm(forms.Form):
    file = forms.FileField(label=_("File"))


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=60)
    querystring = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)

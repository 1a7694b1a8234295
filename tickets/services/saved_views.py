"""A user's saved ticket-list views: named querystrings, each seen and changed only by its
owner. Another user's view is "not found" (never "not yours"), as for any object a user
may not see."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from agents.models import User
from tickets.models import SavedView
from tickets.selectors import saved_views_for

NAME_MAX = SavedView._meta.get_field("name").max_length or 60
QUERY_MAX = SavedView._meta.get_field("querystring").max_length or 1000


def _clean(name: str, querystring: str) -> tuple[str, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > NAME_MAX or len(querystring) > QUERY_MAX:
        raise ValidationError({"name": _("The view's name or filter is too long.")})
    return name, querystring


def saved_view_save(*, user: User, name: str, querystring: str) -> SavedView:
    """Save the filter under a name; saving again under the same name replaces it."""
    name, querystring = _clean(name, querystring)
    with transaction.atomic():
        view, _created = SavedView.objects.update_or_create(
            user=user, name=name, defaults={"querystring": querystring}
        )
    return view


def saved_view_update(
    *, user: User, pk: int, name: str | None = None, querystring: str | None = None
) -> SavedView:
    """Rename a view or change its filter (None leaves it); 404 for another's view."""
    view = saved_views_for(user=user).filter(pk=pk).first()
    if view is None:
        raise Http404
    new_name, new_query = _clean(
        view.name if name is None else name,
        view.querystring if querystring is None else querystring,
    )
    if new_name != view.name and saved_views_for(user=user).filter(name=new_name).exists():
        raise ValidationError({"name": _("You already have a view with this name.")})
    view.name, view.querystring = new_name, new_query
    view.save(update_fields=["name", "querystring"])
    return view


def saved_view_delete(*, user: User, pk: int) -> bool:
    """Delete one of the user's views; another's is left alone. Returns whether one went."""
    deleted, _details = saved_views_for(user=user).filter(pk=pk).delete()
    return bool(deleted)

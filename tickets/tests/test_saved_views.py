"""Saved ticket-list views: one service saves, renames and deletes them, each only its
owner's; the list page offers the user's own and the page's buttons call the service."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from tickets.models import SavedView
from tickets.selectors import saved_views_for
from tickets.services.saved_views import saved_view_delete, saved_view_save, saved_view_update

pytestmark = pytest.mark.django_db


def test_saving_under_the_same_name_replaces_the_filter(people):
    user = people["supervisor"]
    first = saved_view_save(user=user, name="High", querystring="tab=all&priority=high")
    again = saved_view_save(user=user, name=" High ", querystring="tab=all&priority=urgent")
    assert again.pk == first.pk
    assert list(saved_views_for(user=user).values_list("querystring", flat=True)) == [
        "tab=all&priority=urgent"
    ]


def test_a_view_needs_a_name(people):
    with pytest.raises(ValidationError) as caught:
        saved_view_save(user=people["agent"], name="  ", querystring="tab=all")
    assert set(caught.value.error_dict) == {"name"}
    assert not SavedView.objects.exists()


def test_each_user_sees_only_their_own_views(people):
    saved_view_save(user=people["agent"], name="Mine", querystring="tab=mine")
    saved_view_save(user=people["supervisor"], name="Theirs", querystring="tab=all")
    assert [v.name for v in saved_views_for(user=people["agent"])] == ["Mine"]


def test_rename_and_refilter_the_owners_view(people):
    user = people["agent"]
    view = saved_view_save(user=user, name="Old", querystring="tab=mine")
    saved_view_save(user=user, name="Taken", querystring="tab=groups")
    renamed = saved_view_update(user=user, pk=view.pk, name="New")
    assert (renamed.name, renamed.querystring) == ("New", "tab=mine")
    refiltered = saved_view_update(user=user, pk=view.pk, querystring="tab=groups&status=new")
    assert (refiltered.name, refiltered.querystring) == ("New", "tab=groups&status=new")
    with pytest.raises(ValidationError):
        saved_view_update(user=user, pk=view.pk, name="Taken")


def test_another_users_view_is_not_found_and_not_changed(people):
    view = saved_view_save(user=people["supervisor"], name="Boss", querystring="tab=all")
    with pytest.raises(Http404):
        saved_view_update(user=people["agent"], pk=view.pk, name="Mine now")
    assert saved_view_delete(user=people["agent"], pk=view.pk) is False
    assert SavedView.objects.get(pk=view.pk).name == "Boss"
    assert saved_view_delete(user=people["supervisor"], pk=view.pk) is True
    assert not SavedView.objects.exists()


def test_save_from_the_list_page_and_follow_it(client_for, people):
    client = client_for("supervisor")
    response = client.post(
        reverse("tickets:view_save"), {"name": "High", "querystring": "tab=all&priority=high"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:list") + "?tab=all&priority=high"
    assert SavedView.objects.get(user=people["supervisor"]).querystring == "tab=all&priority=high"
    assert (
        'href="?tab=all&amp;priority=high">High</a>'
        in client.get(reverse("tickets:list")).content.decode()
    )


def test_saving_without_a_name_from_the_page_says_so(client_for):
    response = client_for("agent").post(
        reverse("tickets:view_save"), {"name": "", "querystring": "tab=all"}, follow=True
    )
    assert "Give the view a name." in response.content.decode()
    assert not SavedView.objects.exists()


def test_delete_from_the_page_only_the_owners(client_for, people):
    view = saved_view_save(user=people["supervisor"], name="Boss", querystring="tab=all")
    url = reverse("tickets:view_delete", args=[view.pk])
    assert client_for("agent").post(url).status_code == 302
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert client_for("supervisor").post(url).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert client_for("supervisor").get(url).status_code == 405  # a change needs a POST

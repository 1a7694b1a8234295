"""A back-office socket's rights end when the user's do (issue 11, item 2): sign-out,
deactivation, a role or shop change close it, and a timer catches a lost doorbell."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as dj_settings
from django.contrib.auth.models import Group
from django.test import Client

from agents.models import User
from agents.roles import Role
from agents.services import user_set_active, user_set_role
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/ws/monitoring/seats/"


def _session(user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[dj_settings.SESSION_COOKIE_NAME].value
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"{dj_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    return client, headers


async def _open(headers):
    communicator = WebsocketCommunicator(application, PATH, headers=headers)
    assert await communicator.connect(timeout=5) == (True, None)
    assert await communicator.receive_nothing(timeout=0.2)
    return communicator


async def _closed_with(communicator):
    message = await communicator.receive_output(timeout=5)
    return message["type"], message.get("code")


def test_role_change_closes_the_socket_with_4403(people):
    supervisor = people["supervisor"]
    _client, headers = _session(supervisor)

    async def run():
        communicator = await _open(headers)
        from channels.db import database_sync_to_async

        await database_sync_to_async(user_set_role)(user=supervisor, role=Role.AGENT)
        assert await _closed_with(communicator) == ("websocket.close", 4403)

    async_to_sync(run)()


def test_deactivation_closes_the_socket_with_4401(people):
    supervisor = people["supervisor"]
    _client, headers = _session(supervisor)

    async def run():
        communicator = await _open(headers)
        from channels.db import database_sync_to_async

        await database_sync_to_async(user_set_active)(user=supervisor, is_active=False)
        assert await _closed_with(communicator) == ("websocket.close", 4401)

    async_to_sync(run)()


def test_sign_out_closes_that_sessions_sockets_only(people):
    supervisor = people["supervisor"]
    leaving, leaving_headers = _session(supervisor)
    _staying, staying_headers = _session(supervisor)

    async def run():
        from channels.db import database_sync_to_async

        gone = await _open(leaving_headers)
        kept = await _open(staying_headers)
        await database_sync_to_async(leaving.post)("/accounts/logout/")
        assert await _closed_with(gone) == ("websocket.close", 4401)
        assert await kept.receive_nothing(timeout=0.5)
        await kept.disconnect()

    async_to_sync(run)()


def test_a_lost_doorbell_is_caught_by_the_periodic_recheck(people, settings):
    settings.KEFU_SOCKET_RECHECK_SECONDS = 0.3
    supervisor = people["supervisor"]
    _client, headers = _session(supervisor)

    async def run():
        from channels.db import database_sync_to_async

        communicator = await _open(headers)

        def demote_behind_the_services_back():
            # As if the doorbell were lost: the role changes without a broadcast.
            supervisor.groups.set([Group.objects.get(name=Role.AGENT)])

        await database_sync_to_async(demote_behind_the_services_back)()
        assert await _closed_with(communicator) == ("websocket.close", 4403)

    async_to_sync(run)()


def test_rights_are_read_fresh_for_each_check(people):
    # The socket keeps no copy of the role: a user restored before the check keeps access.
    user = User.objects.get(pk=people["supervisor"].pk)
    from agents.sockets import access_verdict

    assert access_verdict(user.pk, "monitoring") is None
    user_set_role(user=user, role=Role.AGENT)
    assert access_verdict(user.pk, "monitoring") == 4403
    user_set_role(user=user, role=Role.SUPERVISOR)
    assert access_verdict(user.pk, "monitoring") is None

"""Ticket attachments count against the same per-user upload rates as the chat's files
(core.ratelimits.user_uploading): over them, the page says so with a 429 and nothing is
stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets.services.lifecycle import ticket_create

pytestmark = pytest.mark.django_db


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_ticket_attachments_over_the_rate_are_refused(
    rate_limits, client_for, ticket_type, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    rate_limits.KEFU_RATE_UPLOADS_PER_USER = "2/minute"
    answers = {"order_no": "BT20261101001"}
    ticket = ticket_create(ticket_type=ticket_type, title="Parcel", submitter=None, answers=answers)
    url = reverse("tickets:act", args=[ticket.pk, "attach"])
    client = client_for("admin")

    def attach(n):
        return client.post(url, {"file": SimpleUploadedFile(f"n{n}.txt", b"hello")})

    assert attach(1).status_code == 302
    assert attach(2).status_code == 302
    before = _files(tmp_path)
    response = attach(3)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many requests" in response.content.decode()
    assert _files(tmp_path) == before
    assert ticket.attachments.count() == 2

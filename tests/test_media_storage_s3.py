"""Attachments in an S3 bucket (KEFU_MEDIA_STORAGE=s3), against a real local S3 server.

Uploads go through the real endpoints and land in the bucket, not on disk; reading one
goes through the same access checks as on disk, and then either streams (the visitor's
token-bearing fetch) or redirects to a short-lived signed link (back-office users).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from commerce.tests.factories import OrderFactory
from tests.permissions import assert_matrix
from tickets.models import TicketAttachment
from tickets.services.lifecycle import ticket_create
from tickets.tests.factories import TicketTypeFactory
from workbench.models import Message
from workbench.services.visitors import visitor_open
from workbench.tests.helpers import make_channel

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
PDF = b"%PDF-1.4 parcel label"


def _object(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def _signed(location: str, s3_endpoint: str, key: str) -> dict[str, list[str]]:
    """The redirect points at the bucket with a SigV4 signature that expires in 60 s."""
    url = urlsplit(location)
    assert f"{url.scheme}://{url.netloc}" == s3_endpoint
    assert url.path.endswith("/" + key)
    query = parse_qs(url.query)
    assert query["X-Amz-Signature"] and query["X-Amz-Expires"] == ["60"]
    return query


def test_chat_file_lands_in_the_bucket_and_is_read_only_through_the_check(
    s3_storage, s3_client, s3_endpoint, settings, people, shop_a, client_for
):
    channel = make_channel(shop=shop_a, greeting="")
    token = visitor_open(channel=channel).token
    response = Client().post(
        "/chat/api/attachments/",
        {"client_id": "f1", "file": SimpleUploadedFile("photo.png", PNG)},
        headers={"X-Visitor-Token": token},
    )
    assert response.status_code == 200, response.content
    message = Message.objects.get(pk=response.json()["id"])
    key = message.attachment.name
    assert key.startswith("chat/") and key.endswith(".png")
    assert _object(s3_client, s3_storage.bucket_name, key) == PNG
    assert not settings.MEDIA_ROOT.exists()  # nothing on the web container's disk

    url = reverse("chat:attachment", args=[message.pk])
    # The visitor's fetch carries its token: streamed, never redirected to the bucket.
    own = Client().get(url, headers={"X-Visitor-Token": token})
    assert own.status_code == 200 and own.getvalue() == PNG
    assert own["Cache-Control"] == "private, no-store"
    stranger = visitor_open(channel=channel).token
    assert Client().get(url, headers={"X-Visitor-Token": stranger}).status_code == 404
    # Back-office users: the same matrix as on disk, a redirect where it was a 200.
    assert_matrix(
        client_for,
        url,
        {
            "anonymous": 404,
            "admin": 302,
            "supervisor": 302,
            "agent": 302,
            "merchant_a": 302,
            "merchant_b": 404,
            "business": 404,
        },
    )
    location = client_for("merchant_a").get(url)["Location"]
    query = _signed(location, s3_endpoint, key)
    assert query["response-content-disposition"][0].startswith("inline")
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["Content-Type"] == "image/png"
    # The bucket itself answers nobody without a signature.
    unsigned = requests.get(f"{s3_endpoint}/{s3_storage.bucket_name}/{key}", timeout=10)
    assert unsigned.status_code == 403


def test_ticket_files_land_in_the_bucket_and_redirect_after_the_check(
    s3_storage, s3_client, s3_endpoint, people, shop_a, client_for
):
    ticket = ticket_create(
        ticket_type=TicketTypeFactory.create(),
        title="Parcel",
        submitter=None,
        order=OrderFactory.create(shop=shop_a),
    )
    attach = reverse("tickets:act", args=[ticket.pk, "attach"])
    for content in (PDF, PDF + b" v2"):
        upload = SimpleUploadedFile("label.pdf", content)
        assert client_for("admin").post(attach, {"file": upload}).status_code == 302
    first, second = TicketAttachment.objects.filter(ticket=ticket).order_by("pk")
    # The same name twice keeps both files (the backend would overwrite by default).
    assert first.file.name != second.file.name
    assert _object(s3_client, s3_storage.bucket_name, first.file.name) == PDF
    assert _object(s3_client, s3_storage.bucket_name, second.file.name) == PDF + b" v2"

    url = reverse("tickets:attachment", args=[ticket.pk, first.pk])
    assert client_for("merchant_b").get(url).status_code == 404
    assert client_for("anonymous").get(url).status_code == 302  # to the sign-in page
    response = client_for("merchant_a").get(url)
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    _signed(response["Location"], s3_endpoint, first.file.name)
    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.content == PDF
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="label.pdf"'


def test_the_bucket_host_may_serve_images_to_the_console(s3_settings, s3_endpoint):
    assert s3_endpoint in s3_settings["img_src"]
    options = s3_settings["storage"]["OPTIONS"]
    assert options["access_key"] == "kefu-test-access"  # read from KEFU_S3_ACCESS_KEY_ID_FILE
    assert options["querystring_auth"] is True and options["file_overwrite"] is False

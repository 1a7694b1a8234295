"""Handing a stored file to someone a view has already checked.

The callers decide who may read a file; this module only decides how the bytes travel:
straight from the web process for a directory on disk, or as a redirect to a short-lived
signed link when the storage is an S3 bucket (the bucket stays private, and the web
process is not a pipe for every download).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


def signs_urls(storage: Storage) -> bool:
    """Whether the storage hands out signed, expiring links (S3 with querystring auth)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a dependency
        return False
    return isinstance(storage, S3Storage) and bool(storage.querystring_auth)


def file_response(
    file: FieldFile,
    *,
    filename: str,
    content_type: str,
    as_attachment: bool,
    redirect: bool = True,
) -> HttpResponse:
    """The file for a reader the caller has checked; never cached by shared caches.

    `redirect=False` streams through the web process even from a bucket: for callers whose
    request carries a secret in a header (a visitor's token), which a cross-origin redirect
    would forward to the storage host and which would need the bucket's CORS rules.
    """
    content_type = content_type or "application/octet-stream"
    response: HttpResponse
    if redirect and signs_urls(file.storage):
        url = file.storage.url(  # type: ignore[call-arg]
            file.name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition_header(as_attachment, filename)
                or "inline",
                "ResponseCacheControl": "private, no-store",
            },
            expire=settings.KEFU_S3_URL_EXPIRE_SECONDS,
        )
        response = HttpResponseRedirect(url)
    else:
        response = FileResponse(  # type: ignore[assignment]
            file.open("rb"),
            content_type=content_type,
            as_attachment=as_attachment,
            filename=filename,
        )
    response["Cache-Control"] = "private, no-store"
    return response

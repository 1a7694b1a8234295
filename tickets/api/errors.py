"""How the tickets API says no: the services' refusals as HTTP errors with their message.

400 bad input (field errors keyed as the request's), 403 not yours to do, 409 a stale
version or a transition the ticket's status does not allow, 422 a reused Idempotency-Key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status

from tickets.services.errors import (
    InvalidTransitionError,
    StaleTicketError,
    TicketError,
    TicketPermissionError,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The ticket's state does not allow this.")
    default_code = "conflict"


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The request was refused.")
    default_code = "invalid"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy(
        "This Idempotency-Key was already used with a different request body. "
        "Use a new key for a new ticket."
    )
    default_code = "idempotency_key_reused"


@contextmanager
def service_errors() -> Iterator[None]:
    """Translate the services' refusals into API errors with their (translated) message."""
    try:
        yield
    except (StaleTicketError, InvalidTransitionError) as error:
        raise Conflict(error.message) from error
    except TicketPermissionError as error:
        raise exceptions.PermissionDenied(error.message) from error
    except TicketError as error:
        raise BadRequest(error.message) from error
    except DjangoValidationError as error:
        raise exceptions.ValidationError(_drf_errors(error)) from error


def _drf_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if key == "__all__" else key): [
                str(message) for e in errors for message in e.messages
            ]
            for key, errors in error.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}

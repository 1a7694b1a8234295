from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.sections import section_view
from monitoring.selectors import (
    seat_board_for,
    seat_state_counts,
)


def _board_context(request: HttpRequest) -> dict:
    rows = seat_board_for(user=request.user)
    return {"seats": rows, "counts": seat_state_counts(rows)}


@section_view("monitoring")
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "monitoring/index.html", _board_context(request))


@section_view("monitoring")
def seat_board(request: HttpRequest) -> HttpResponse:
    """The board alone: the page re-reads it whenever the websocket doorbell rings."""
    return render(request, "monitoring/_seat_board.html", _board_context(request))

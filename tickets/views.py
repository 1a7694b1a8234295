from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.sections import section_view


@section_view("tickets")
def ticket_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/list.html", {})

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.sections import section_view


@section_view("service_orders")
def service_order_list(request: HttpRequest) -> HttpResponse:
    # Service orders are created with conversations (live chat); until then the list is
    # honestly empty rather than filled with made-up rows.
    return render(request, "service_orders/list.html", {})

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.sections import section_view
from reports.selectors import customer_total_for, order_total_for, shop_summary_for


@section_view("reports")
def reports(request: HttpRequest) -> HttpResponse:
    context = {
        "shops": shop_summary_for(user=request.user),
        "customer_total": customer_total_for(user=request.user),
        "order_total": order_total_for(user=request.user),
    }
    return render(request, "reports/index.html", context)

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.sections import section_view


@section_view("settings")
def index(request: HttpRequest) -> HttpResponse:
    """Entry to configuration: Django admin's apps, as the admin user may see them."""
    app_list = admin.site.get_app_list(request)
    return render(request, "settings_app/index.html", {"app_list": app_list})

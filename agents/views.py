from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.forms import PreferencesForm, SeatStateForm
from agents.sections import section_view, sections_for
from agents.selectors import user_get_for, user_list_for
from agents.services import agent_set_state, user_update_preferences
from core.types import AuthedRequest


@section_view("agents")
def agent_list(request: AuthedRequest) -> HttpResponse:
    agents = user_list_for(user=request.user)
    return render(request, "agents/agent_list.html", {"agents": agents})


@section_view("agents")
def agent_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    agent = user_get_for(user=request.user, pk=pk)
    return render(request, "agents/agent_detail.html", {"agent": agent})


@login_required
def preferences(request: AuthedRequest) -> HttpResponse:
    user = request.user
    initial = {"display_name": user.display_name, "email": user.email, "language": user.language}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_preferences(user=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your preferences were saved."))
            return redirect("agents:preferences")
    return render(request, "agents/preferences.html", {"form": form})


@require_POST
@section_view("workbench")
def set_state(request: AuthedRequest) -> HttpResponse:
    """The seat switcher in the top bar: online, away or offline."""
    form = SeatStateForm(request.POST)
    if form.is_valid():
        agent_set_state(user=request.user, state=form.cleaned_data["state"])
    else:
        messages.error(request, _("Unknown state."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "home"
    return redirect(target)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the first section their role opens."""
    sections = sections_for(request.user)
    if not sections:
        return render(request, "agents/no_role.html", status=403)
    return redirect(reverse(sections[0].url_name))

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agents.models import AgentProfile


class PreferencesForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        required=False,
        help_text=_("Shown to customers and colleagues instead of your username."),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Follow the browser")), *settings.LANGUAGES],
    )


class SeatStateForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=AgentProfile.State.choices)

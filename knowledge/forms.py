from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.models import shortcut_validator


class PersonalCannedReplyForm(forms.Form):
    """What an agent types to save or edit a personal canned reply."""

    title = forms.CharField(label=_("title"), max_length=100)
    text = forms.CharField(label=_("text"), max_length=5000)
    shortcut = forms.CharField(
        label=_("shortcut"), max_length=32, required=False, validators=[shortcut_validator]
    )

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    # Runs once per migrate, after Django's own post_migrate created the permissions of
    # every model; keeps the admin role able to configure models that later migrations add.
    if sender.label != "agents":
        return
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from agents.roles import sync_role_groups

    # Apps later in INSTALLED_APPS get their post_migrate after this one: make sure their
    # permissions exist before handing them to the admin role (create_permissions is
    # idempotent, Django calls it again for each app right after).
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups()


def _close_sockets_of_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # A doorbell, not a cascade: the signed-out session's sockets close themselves.
    if user is None or request is None:
        return
    from agents.services import user_access_changed

    session_key = getattr(getattr(request, "session", None), "session_key", None)
    user_access_changed(user_id=user.pk, signed_out_session=session_key or "*")


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agents")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="agents.sync_roles")
        user_logged_out.connect(_close_sockets_of_session, dispatch_uid="agents.logout_sockets")

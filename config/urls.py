from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from agents import views as agents_views
from core import views as core_views

admin.site.site_header = "Kefu"
admin.site.site_title = "Kefu"

urlpatterns = [
    path("", agents_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("agents.auth_urls")),
    path("agents/", include("agents.urls")),
    path("workbench/quick-send/", include("knowledge.urls")),
    path("workbench/", include("workbench.urls")),
    path("chat/", include("workbench.chat_urls")),
    path("service-orders/", include("service_orders.urls")),
    path("tickets/", include("tickets.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("reports/", include("reports.urls")),
    path("search/", include("workbench.search_urls")),
    path("settings/", include("settings_app.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("tickets.api.urls")),
]

# No route serves the media storage itself: attachments are read only through their
# views' access checks (core.files.file_response), in the demo too.

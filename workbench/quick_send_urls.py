from django.urls import path

from workbench import quick_send_views

app_name = "quick_send"
urlpatterns = [
    path("canned/", quick_send_views.canned, name="canned"),
    path("canned/<int:pk>/use/", quick_send_views.canned_use, name="canned_use"),
    path("knowledge/", quick_send_views.knowledge, name="knowledge"),
]

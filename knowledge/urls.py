from django.urls import path

from knowledge import views as quick_send_views

app_name = "quick_send"
urlpatterns = [
    path("canned/", quick_send_views.canned, name="canned"),
    path("canned/new/", quick_send_views.canned_create, name="canned_create"),
    path("canned/<int:pk>/use/", quick_send_views.canned_use, name="canned_use"),
    path("canned/<int:pk>/edit/", quick_send_views.canned_edit, name="canned_edit"),
    path("canned/<int:pk>/delete/", quick_send_views.canned_delete, name="canned_delete"),
    path("knowledge/", quick_send_views.knowledge, name="knowledge"),
]

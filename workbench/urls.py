from django.urls import path

from workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.index, name="index"),
    path("api/lists/", views.api_lists, name="api_lists"),
    path("api/conversations/<int:pk>/", views.api_conversation, name="api_conversation"),
    path("api/conversations/<int:pk>/attachments/", views.api_upload, name="api_upload"),
    path("conversations/<int:pk>/customer/", views.customer_panel, name="customer_panel"),
]

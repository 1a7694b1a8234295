from django.urls import path

from monitoring import views

app_name = "reports"
urlpatterns = [path("", views.reports, name="index")]

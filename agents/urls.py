from django.urls import path

from agents import views

app_name = "agents"
urlpatterns = [
    path("", views.agent_list, name="list"),
    path("<int:pk>/", views.agent_detail, name="detail"),
    path("me/", views.preferences, name="preferences"),
    path("me/state/", views.set_state, name="set_state"),
]

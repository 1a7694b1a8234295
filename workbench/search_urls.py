from django.urls import path

from workbench import views

app_name = "info_query"
urlpatterns = [
    path("", views.info_query, name="search"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
]

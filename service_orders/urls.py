from django.urls import path

from service_orders import views

app_name = "service_orders"
urlpatterns = [
    path("", views.service_order_list, name="list"),
    path("<int:pk>/", views.service_order_detail, name="detail"),
]

from django.urls import path

from tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_pick_type, name="pick_type"),
    path("new/<int:type_pk>/", views.ticket_create, name="create"),
    path("from-chat/<int:so_pk>/", views.ticket_from_conversation, name="from_chat"),
    path("new/members/", views.group_member_options, name="member_options"),
    path("views/", views.saved_view_create, name="view_save"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="view_delete"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", views.ticket_act, name="act"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]

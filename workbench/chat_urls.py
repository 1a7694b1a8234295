from django.urls import path

from workbench import chat_views

app_name = "chat"
urlpatterns = [
    path("api/session/", chat_views.session, name="session"),
    path("api/attachments/", chat_views.visitor_attachment, name="upload"),
    path("files/<int:pk>/", chat_views.attachment, name="attachment"),
    path("demo/", chat_views.demo_host, name="demo"),
    path("<slug:key>/", chat_views.chat_page, name="page"),
]

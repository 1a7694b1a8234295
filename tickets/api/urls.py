from rest_framework.routers import SimpleRouter

from tickets.api.views import TicketTypeViewSet, TicketViewSet

app_name = "tickets_api"

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("ticket-types", TicketTypeViewSet, basename="ticket-type")
urlpatterns = router.urls

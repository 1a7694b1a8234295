from django.contrib import admin

from commerce.models import AfterSale, Customer, Order, Shipment


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "phone", "tier", "membership_level", "points"]
    list_filter = ["tier"]
    search_fields = ["external_id", "name", "phone", "email"]


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0


class AfterSaleInline(admin.TabularInline):
    model = AfterSale
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_no", "shop", "customer", "status", "total", "placed_at"]
    list_filter = ["status", "shop"]
    search_fields = ["order_no", "customer__name", "customer__external_id"]
    list_select_related = ["shop", "customer"]
    autocomplete_fields = ["customer", "owner"]
    date_hierarchy = "placed_at"
    inlines = [ShipmentInline, AfterSaleInline]

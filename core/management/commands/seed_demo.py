"""Demo data: two shops, groups, one user per role (and a few more), customers, orders.

Idempotent: running it again brings the demo back to the same state without duplicates.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agents.models import AgentProfile, GroupMembership, Shop, SkillGroup, User
from agents.roles import Role
from agents.services import user_create, user_set_role
from commerce.models import AfterSale, Customer, Order, Shipment
from settings_app.models import ChannelAccount, IssueType

DEMO_PASSWORD = "kefu-demo"  # noqa: S105 - printed on purpose; demo only

SHOPS = [("Blossom Tea House", "blossom-tea"), ("Northwind Electronics", "northwind")]
PLATFORM_GROUPS = ["Pre-sales", "After-sales", "Complaints", "Logistics desk", "Refunds desk"]

# username, display name, role, shop codes, groups (name or (shop code, name)), lead?
USERS: list[tuple[str, str, Role, list[str], list[Any], bool]] = [
    ("admin", "Admin", Role.ADMIN, [], [], False),
    (
        "supervisor",
        "Lin Hui (supervisor)",
        Role.SUPERVISOR,
        [],
        ["Pre-sales", "After-sales", "Complaints"],
        True,
    ),
    ("agent1", "Zhang Wei", Role.AGENT, [], ["Pre-sales", "After-sales"], False),
    ("agent2", "Li Na", Role.AGENT, [], ["After-sales", "Complaints"], False),
    (
        "blossom1",
        "Chen Jing (Blossom)",
        Role.MERCHANT_AGENT,
        ["blossom-tea"],
        [("blossom-tea", "Blossom service")],
        False,
    ),
    (
        "northwind1",
        "Wang Fang (Northwind)",
        Role.MERCHANT_AGENT,
        ["northwind"],
        [("northwind", "Northwind service")],
        False,
    ),
    ("logistics1", "Zhao Lei (logistics)", Role.BUSINESS_STAFF, [], ["Logistics desk"], False),
    ("refunds1", "Sun Mei (refunds)", Role.BUSINESS_STAFF, [], ["Refunds desk"], False),
]

# key, name, shop code (None = platform), default group key, greeting
CHANNELS: list[tuple[str, str, str | None, Any, str]] = [
    (
        "demo-blossom",
        "Blossom Tea House web chat",
        "blossom-tea",
        ("blossom-tea", "Blossom service"),
        "Welcome to Blossom Tea House! Ask us anything about our teas and your orders.",
    ),
    (
        "demo-northwind",
        "Northwind Electronics web chat",
        "northwind",
        ("northwind", "Northwind service"),
        "Hi, this is Northwind support. How can we help you today?",
    ),
    (
        "demo-platform",
        "Marketplace help desk",
        None,
        "Pre-sales",
        "Hello! This is the marketplace's customer service. What can we do for you?",
    ),
]
# Shop servers sign customer ids with this (demo only; real channels get their own).
DEMO_IDENTITY_SECRET = "demo-identity-secret"  # noqa: S105 - demo only
ISSUE_TYPES = [
    "Order status",
    "Shipping and delivery",
    "Refund or return",
    "Product question",
    "Complaint",
    "Other",
]

CUSTOMERS = [
    ("C1001", "Liu Yang", "13800000001", "vip", "Gold", 5200),
    ("C1002", "Huang Min", "13800000002", "normal", "Silver", 830),
    ("C1003", "Xu Tao", "13800000003", "normal", "", 0),
    ("C1004", "Ma Li", "13800000004", "vip", "Platinum", 12900),
    ("C1005", "Guo Qiang", "13800000005", "normal", "Silver", 410),
    ("C1006", "He Xin", "13800000006", "normal", "", 60),
]

# order no, shop code, customer id, status, total, days ago, items
ORDERS = [
    (
        "BT20261101001",
        "blossom-tea",
        "C1001",
        "delivered",
        "368.00",
        20,
        ["Longjing 250g", "Tea set"],
    ),
    ("BT20261115002", "blossom-tea", "C1002", "shipped", "129.00", 6, ["Pu'er cake"]),
    ("BT20261120003", "blossom-tea", "C1004", "paid", "899.00", 2, ["Gift box"]),
    (
        "NW20261103001",
        "northwind",
        "C1001",
        "delivered",
        "2499.00",
        18,
        ["Noise-cancelling headphones"],
    ),
    ("NW20261118002", "northwind", "C1003", "shipped", "159.00", 4, ["USB-C hub"]),
    ("NW20261121003", "northwind", "C1005", "pending", "4999.00", 1, ["Laptop"]),
    ("NW20261109004", "northwind", "C1006", "cancelled", "89.00", 13, ["Phone case"]),
]


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        shops = {}
        for name, code in SHOPS:
            shop, _ = Shop.objects.update_or_create(code=code, defaults={"name": name})
            shops[code] = shop
        groups: dict[Any, SkillGroup] = {}
        for name in PLATFORM_GROUPS:
            groups[name], _ = SkillGroup.objects.get_or_create(name=name, shop=None)
        for code, name in [("blossom-tea", "Blossom service"), ("northwind", "Northwind service")]:
            groups[(code, name)], _ = SkillGroup.objects.get_or_create(name=name, shop=shops[code])

        for username, display, role, shop_codes, group_keys, lead in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    display_name=display,
                    email=f"{username}@example.com",
                    shops=[shops[c] for c in shop_codes],
                )
            else:
                user.set_password(DEMO_PASSWORD)
                user.display_name = display
                user.save(update_fields=["password", "display_name"])
                user_set_role(user=user, role=role)
                user.shops.set([shops[c] for c in shop_codes])
                AgentProfile.objects.get_or_create(user=user)
            if role == Role.ADMIN and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            for key in group_keys:
                GroupMembership.objects.update_or_create(
                    group=groups[key],
                    user=user,
                    defaults={
                        "role": GroupMembership.Role.LEAD if lead else GroupMembership.Role.MEMBER
                    },
                )

        customers = {}
        for ext, name, phone, tier, level, points in CUSTOMERS:
            customers[ext], _ = Customer.objects.update_or_create(
                external_id=ext,
                defaults={
                    "name": name,
                    "phone": phone,
                    "email": f"{ext.lower()}@example.com",
                    "tier": tier,
                    "membership_level": level,
                    "points": points,
                },
            )
        for order_no, code, ext, status, total, days, items in ORDERS:
            order, created = Order.objects.update_or_create(
                order_no=order_no,
                defaults={
                    "shop": shops[code],
                    "customer": customers[ext],
                    "status": status,
                    "total": Decimal(total),
                    "items": items,
                    "placed_at": now - timedelta(days=days),
                },
            )
            if created and status in {"shipped", "delivered"}:
                Shipment.objects.create(
                    order=order,
                    carrier="SF Express",
                    tracking_no=f"SF{order_no[-9:]}",
                    status="Delivered" if status == "delivered" else "In transit: Hangzhou hub",
                    updated_at=now - timedelta(days=max(days - 2, 0)),
                )
        refund_order = Order.objects.get(order_no="NW20261103001")
        AfterSale.objects.get_or_create(
            order=refund_order,
            kind=AfterSale.Kind.RETURN,
            defaults={
                "status": AfterSale.Status.REQUESTED,
                "amount": Decimal("2499.00"),
                "reason": "Left earcup crackles",
            },
        )
        for key, name, shop_code, group_key, greeting in CHANNELS:
            ChannelAccount.objects.update_or_create(
                key=key,
                defaults={
                    "name": name,
                    "shop": shops[shop_code] if shop_code else None,
                    "default_group": groups[group_key],
                    "greeting": greeting,
                    "identity_secret": DEMO_IDENTITY_SECRET,
                    "is_active": True,
                },
            )
        for position, name in enumerate(ISSUE_TYPES):
            IssueType.objects.update_or_create(name=name, defaults={"position": position})
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

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
from knowledge.models import CannedReply, KnowledgeArticle, KnowledgeCategory, KnowledgeQA
from service_orders.models import IssueType
from workbench.models import ChannelAccount

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


# title, shortcut, text, scope, owner username, group key, shop code
CANNED_REPLIES: list[tuple[str, str, str, str, str | None, Any, str | None]] = [
    ("Greeting", "/hi", "Hello, this is Kefu customer service. How can I help you today?",
     "shared", None, None, None),
    ("问候", "/nihao", "您好，很高兴为您服务，请问有什么可以帮您？", "shared", None, None, None),
    ("Please wait", "/wait", "Thank you for waiting, I am checking this for you now.",
     "shared", None, None, None),
    ("稍等", "/shaodeng", "请您稍等，我马上为您查询。", "shared", None, None, None),
    ("Closing", "/bye", "Is there anything else I can help with? Have a nice day!",
     "shared", None, None, None),
    ("退款说明", "/refund", "退款审核通过后，款项将在1-3个工作日内原路退回，请留意账户。",
     "group", None, "After-sales", None),
    ("Refund timing", "/refund-en", "Once approved, the refund goes back to your original "
     "payment method within 1-3 working days.", "group", None, "After-sales", None),
    ("退货地址", "/return",
     "请将商品寄回：浙江省杭州市西湖区文三路 100 号 售后部，"
     "并在订单页填写运单号。", "group", None, "After-sales", None),
    ("Price match", "/price", "We match the price within 7 days of purchase; please send a "
     "screenshot of the lower price.", "group", None, "Pre-sales", None),
    ("My sign-off", "/zw", "我是张伟，有问题随时找我。", "personal", "agent1", None, None),
    ("Tea brewing tips", "/brew", "For Longjing use 80°C water and steep for 2 minutes.",
     "group", None, ("blossom-tea", "Blossom service"), None),
    ("茶叶保存", "/cang", "茶叶请密封、避光、防潮保存，开封后建议一个月内饮用。",
     "shared", None, None, "blossom-tea"),
    ("Chen's sign-off", "/cj", "Chen Jing from Blossom Tea House, happy to help.",
     "personal", "blossom1", None, None),
    ("Warranty", "/warranty", "Northwind products carry a one-year warranty; keep your invoice.",
     "shared", None, None, "northwind"),
]  # fmt: skip

KB_CATEGORIES: list[tuple[str | None, str, int]] = [
    (None, "Returns & refunds", 1),
    (None, "Shipping", 2),
    (None, "Invoices", 3),
    ("blossom-tea", "Tea care", 1),
    ("northwind", "Warranty", 1),
]

# shop code, category, question, answer, keywords
KB_QAS: list[tuple[str | None, str, str, str, str]] = [
    (None, "Returns & refunds", "退货政策是什么？",
     "签收后 7 天内可无理由退货（商品完好、不影响二次销售）。请在订单详情页点击“申请售后”，"
     "审核通过后按页面地址寄回。", "退货,退换,退回,七天无理由"),
    (None, "Returns & refunds", "退款多久到账？",
     "退款审核通过后 1-3 个工作日原路退回；信用卡可能需要更长时间。", "退款,到账,钱"),
    (None, "Returns & refunds", "What is the return policy?",
     "You can return items within 7 days of delivery if they are unused. Open the order and "
     "choose 'Request after-sales'.", "return, returns, send back"),
    (None, "Returns & refunds", "When will I get my refund?",
     "Approved refunds go back to the original payment method within 1-3 working days.",
     "refund, money back"),
    (None, "Shipping", "快递多久能到？", "一般下单后 48 小时内发货，3-5 天送达，偏远地区略慢。",
     "快递,物流,发货,到货"),
    (None, "Shipping", "When will my parcel arrive?",
     "Orders ship within 48 hours and usually arrive in 3-5 days.",
     "delivery, shipping, parcel, arrive"),
    (None, "Invoices", "怎么开发票？",
     "在订单详情页点击“申请发票”，电子发票将在 24 小时内发送到邮箱。", "发票,开票,报销"),
    ("blossom-tea", "Tea care", "茶叶怎么保存？", "密封、避光、防潮、远离异味，绿茶建议冷藏。",
     "保存,储存,茶叶,冷藏"),
    ("northwind", "Warranty", "耳机坏了能保修吗？",
     "Northwind 产品整机保修一年，凭发票或订单号到售后申请。", "保修,维修,坏了,耳机"),
]  # fmt: skip

KB_ARTICLES: list[tuple[str | None, str, str, str]] = [
    (None, "Returns & refunds", "Returns and refunds, step by step",
     "1. Open the order and choose 'Request after-sales'. 2. Wait for approval (usually within "
     "a day). 3. Send the item back with the tracking number filled in. 4. The refund is issued "
     "within 1-3 working days after the warehouse receives it."),
    (None, "Shipping", "物流异常处理指引",
     "快递超过 7 天未更新物流：先核实运单号，再联系承运商；"
     "如确认丢件，为客户补发或退款，并创建物流工单。"),
]  # fmt: skip


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
                shop=None,
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
        self._seed_quick_send(shops, groups)
        from demo.tickets import seed_tickets

        seed_tickets(groups=groups, now=now)
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
        from demo.api_integration import seed_api_integration

        seed_api_integration(shop=shops["blossom-tea"])
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))

    def _seed_quick_send(self, shops: dict[str, Shop], groups: dict[Any, SkillGroup]) -> None:
        """Canned replies (personal, group, shop-wide, platform) and a small knowledge base."""
        users = {u.username: u for u in User.objects.filter(username__in=["agent1", "blossom1"])}
        for title, shortcut, text, scope, owner, group_key, shop_code in CANNED_REPLIES:
            group = groups[group_key] if group_key else None
            shop = group.shop if group else (shops[shop_code] if shop_code else None)
            CannedReply.objects.update_or_create(
                title=title,
                scope=scope,
                owner=users[owner] if owner else None,
                group=group,
                shop=shop,
                defaults={"shortcut": shortcut, "text": text, "is_active": True},
            )
        categories: dict[tuple[str | None, str], KnowledgeCategory] = {}
        for shop_code, name, position in KB_CATEGORIES:
            categories[(shop_code, name)], _ = KnowledgeCategory.objects.update_or_create(
                name=name,
                shop=shops[shop_code] if shop_code else None,
                defaults={"position": position},
            )
        for shop_code, category, question, answer, keywords in KB_QAS:
            KnowledgeQA.objects.update_or_create(
                question=question,
                shop=shops[shop_code] if shop_code else None,
                defaults={
                    "answer": answer,
                    "keywords": keywords,
                    "category": categories[(shop_code, category)],
                    "is_active": True,
                },
            )
        for shop_code, category, title, body in KB_ARTICLES:
            KnowledgeArticle.objects.update_or_create(
                title=title,
                shop=shops[shop_code] if shop_code else None,
                defaults={
                    "body": body,
                    "category": categories[(shop_code, category)],
                    "is_published": True,
                },
            )

"""Seed the chat benchmark's agents and channel in Kefu's bench database.

Run by bench/chat_latency.py (KefuChatTarget.prepare) with Kefu's production settings in
the environment, after `seed_demo`:

    python bench/kefu_chat_seed.py <agents> <capacity> <password>

Idempotent: a platform skill group "Bench desk", a platform channel `bench-chat` routed to
it, and agents bench-agent-01.. (role agent, online, max_concurrent = capacity, members of
the group) with the given password. The password is hashed once and the hash copied, so
seeding 20 agents costs one PBKDF2 run, not twenty.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402

from agents.models import AgentProfile, GroupMembership, SkillGroup, User  # noqa: E402
from agents.services import user_create  # noqa: E402
from workbench.models import ChannelAccount  # noqa: E402

CHANNEL_KEY = "bench-chat"
GROUP_NAME = "Bench desk"


def main(agents: int, capacity: int, password: str) -> None:
    hashed = make_password(password)
    with transaction.atomic():
        group, _ = SkillGroup.objects.get_or_create(name=GROUP_NAME, shop=None)
        ChannelAccount.objects.update_or_create(
            key=CHANNEL_KEY,
            defaults={
                "name": "Bench chat",
                "shop": None,
                "default_group": group,
                "greeting": "",
                "is_active": True,
            },
        )
        for n in range(1, agents + 1):
            username = f"bench-agent-{n:02d}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(
                    username=username,
                    password=None,
                    role="agent",
                    display_name=f"Bench agent {n}",
                    skill_groups=[group],
                    max_concurrent=capacity,
                )
            User.objects.filter(pk=user.pk).update(password=hashed, is_active=True)
            GroupMembership.objects.get_or_create(group=group, user=user)
            AgentProfile.objects.filter(user=user).update(
                state=AgentProfile.State.ONLINE, max_concurrent=capacity
            )
    print(f"bench chat: channel {CHANNEL_KEY}, {agents} agents x capacity {capacity}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])

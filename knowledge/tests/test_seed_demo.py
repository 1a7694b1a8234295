"""The demo data for quick send is idempotent and usable; the retry sweep is scheduled."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from agents.models import User
from config.celery import app as celery_app
from knowledge.models import CannedReply, KnowledgeArticle, KnowledgeQA
from knowledge.selectors import canned_replies_for, knowledge_suggestions_for


@pytest.mark.django_db
def test_seed_demo_quick_send_is_idempotent_and_scoped():
    call_command("seed_demo", stdout=None)
    counts = (CannedReply.objects.count(), KnowledgeQA.objects.count(),
              KnowledgeArticle.objects.count())  # fmt: skip
    call_command("seed_demo", stdout=None)
    assert counts == (
        CannedReply.objects.count(),
        KnowledgeQA.objects.count(),
        KnowledgeArticle.objects.count(),
    )
    agent1 = User.objects.get(username="agent1")
    blossom1 = User.objects.get(username="blossom1")
    scopes = {r.scope for r in canned_replies_for(user=agent1)}
    assert scopes == {"personal", "group", "shared"}
    assert {r.shop.code for r in canned_replies_for(user=blossom1) if r.shop} == {"blossom-tea"}
    assert all(r.shop_id or r.owner_id == blossom1.pk for r in canned_replies_for(user=blossom1))
    assert (
        knowledge_suggestions_for(user=agent1, text="我想退货怎么办")[0].title == "退货政策是什么？"
    )


@pytest.mark.parametrize("name", ["webhooks-deliver-due", "webhooks-purge-log"])
def test_webhook_jobs_are_in_the_beat_schedule_and_registered(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    celery_app.loader.import_default_modules()
    assert entry["task"] in celery_app.tasks

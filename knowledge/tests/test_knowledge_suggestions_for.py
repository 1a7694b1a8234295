"""knowledge_suggestions_for: Chinese (jieba) and English matching, ranking, shop isolation."""

from __future__ import annotations

import pytest
from django.http import Http404

from knowledge import selectors
from knowledge.selectors import knowledge_suggestions_for
from knowledge.tests.factories import KnowledgeArticleFactory, KnowledgeQAFactory
from knowledge.text_match import tokenize

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(shop_a, shop_b):
    qa = KnowledgeQAFactory.create
    return {
        "return_zh": qa(
            question="退货政策是什么？",
            answer="签收后7天内可无理由退货，请在订单页申请退货。",
            keywords="退货,退换,退回",
        ),
        "ship_zh": qa(
            question="快递多久能到？", answer="一般3-5天送达。", keywords="快递,物流,发货"
        ),
        "invoice_zh": qa(
            question="怎么开发票？", answer="在订单详情页申请电子发票。", keywords="发票"
        ),
        "return_en": qa(
            question="What is the return policy?",
            answer="You can return items within 7 days of delivery.",
            keywords="return, refund",
        ),
        "ship_en": qa(
            question="When will my parcel arrive?",
            answer="Usually in 3-5 days.",
            keywords="delivery, shipping, parcel",
        ),
        "article_en": KnowledgeArticleFactory.create(
            title="Refunds explained",
            body="Refunds go back to the original payment method within 3 working days.",
        ),
        "draft": KnowledgeArticleFactory.create(
            title="退货 draft", body="退货 退货 退货", is_published=False
        ),
        "a_only": qa(
            question="A店退货地址", answer="杭州市西湖区A路1号", keywords="退货地址", shop=shop_a
        ),
        "b_only": qa(
            question="B店退货地址", answer="深圳市南山区B路2号", keywords="退货地址", shop=shop_b
        ),
    }


def top(user, text, **kw):
    return [(s.kind, s.title) for s in knowledge_suggestions_for(user=user, text=text, **kw)]


def test_tokenizer_segments_chinese_and_drops_fillers():
    assert tokenize("我想退货怎么办") == ["退货"]
    assert tokenize("How do I return my orders?") == ["return", "order"]


def test_chinese_message_finds_the_return_policy(people, kb):
    results = top(people["agent"], "我想退货怎么办")
    assert results[0] == ("qa", "退货政策是什么？")
    assert ("qa", "快递多久能到？") not in results


def test_chinese_shipping_question(people, kb):
    assert top(people["agent"], "我的快递怎么还没到啊")[0] == ("qa", "快递多久能到？")
    assert top(people["agent"], "能开发票吗")[0] == ("qa", "怎么开发票？")


def test_english_message_finds_qa_and_article(people, kb):
    assert top(people["agent"], "Hi, how do I return these headphones?")[0] == (
        "qa",
        "What is the return policy?",
    )
    results = top(people["agent"], "I want a refund to my card", limit=5)
    assert ("article", "Refunds explained") in results
    assert ("qa", "What is the return policy?") in results  # keyword "refund"


def test_limit_and_nothing_for_small_talk(people, kb):
    assert len(top(people["agent"], "退货 快递 发票 return parcel", limit=2)) == 2
    assert top(people["agent"], "你好") == []
    assert top(people["agent"], "") == []


def test_unpublished_articles_are_never_suggested(people, kb):
    assert all("draft" not in title for _k, title in top(people["agent"], "退货", limit=10))


def test_merchant_sees_only_their_shops_knowledge(people, kb, shop_a, shop_b):
    results = top(people["merchant_a"], "退货地址在哪里", limit=10)
    assert results == [("qa", "A店退货地址")]
    with pytest.raises(Http404):
        knowledge_suggestions_for(user=people["merchant_a"], text="退货", shop_id=shop_b.pk)


def test_platform_agent_gets_a_shops_entries_when_the_conversation_is_about_it(people, kb, shop_a):
    without = top(people["agent"], "退货地址", limit=10)
    assert ("qa", "A店退货地址") not in without
    with_shop = top(people["agent"], "退货地址", limit=10, shop_id=shop_a.pk)
    assert with_shop[0] == ("qa", "A店退货地址")
    assert ("qa", "B店退货地址") not in with_shop


def test_the_best_match_survives_the_candidate_cut_off(people, monkeypatch):
    """Many weak matches must not crowd the strong one out of the scored candidates."""
    monkeypatch.setattr(selectors, "MAX_CANDIDATES", 5)
    for n in range(20):
        # Sorted before the real one by question; each mentions 退货 only in the answer.
        KnowledgeQAFactory.create(question=f"A 问题 {n:02d}", answer="偶尔提到退货。")
    KnowledgeQAFactory.create(
        question="退货政策是什么？", answer="7天无理由退货。", keywords="退货"
    )
    assert top(people["agent"], "我想退货怎么办")[0] == ("qa", "退货政策是什么？")


def test_knowledge_suggestions_use_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    for n in range(40):
        KnowledgeQAFactory.create(question=f"退货问题 {n}", answer="退货", keywords="退货")
        KnowledgeArticleFactory.create(title=f"退货指南 {n}", body="退货")
    user = people["agent"]
    knowledge_suggestions_for(user=user, text="退货")  # warm the user's caches
    with django_assert_max_num_queries(3):
        assert len(knowledge_suggestions_for(user=user, text="我想退货", limit=3)) == 3

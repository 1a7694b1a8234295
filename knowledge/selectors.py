"""Reads for quick send (canned replies, knowledge suggestions), scoped like everything else.

Shop scoping goes through agents.access.restrict; on top of it, canned replies follow
their own rule: a user sees their personal replies, the replies of skill groups they are
in, and shared replies (platform-wide ones for platform staff, shop-wide ones for the
members of that shop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When
from django.http import Http404

from agents.access import can_see_shop, restrict
from knowledge.models import CannedReply, KnowledgeArticle, KnowledgeQA
from knowledge.text_match import Document, keyword_tokens, rank, tokenize

MAX_QUERY_LENGTH = 100
MAX_CANNED_RESULTS = 50
MAX_TEXT_LENGTH = 1000
# Candidates scored in Python per kind; the database pre-filters by shared terms.
MAX_CANDIDATES = 100


def _user_group_ids(user: Any) -> list[int]:
    return list(
        user.group_memberships.filter(group__is_active=True).values_list("group_id", flat=True)
    )


def canned_replies_visible_to(*, user: Any) -> QuerySet[CannedReply]:
    """Every active canned reply the user may see and send."""
    active = CannedReply.objects.filter(is_active=True)
    own_shop_ids = list(user.shops.values_list("pk", flat=True))
    team = restrict(active, user=user).filter(
        Q(scope=CannedReply.Scope.GROUP, group_id__in=_user_group_ids(user))
        | Q(scope=CannedReply.Scope.SHARED, shop__isnull=True)
        | Q(scope=CannedReply.Scope.SHARED, shop_id__in=own_shop_ids)
        | Q(scope=CannedReply.Scope.PERSONAL, owner=user)
    )
    # A personal reply without a shop is the owner's own text, wherever they work.
    personal = active.filter(scope=CannedReply.Scope.PERSONAL, owner=user, shop__isnull=True)
    return active.filter(Q(pk__in=team.values("pk")) | Q(pk__in=personal.values("pk")))


def canned_replies_for(*, user: Any, query: str = "") -> list[CannedReply]:
    """The user's canned replies matching `query`, most used first.

    A query starting with "/" matches shortcuts by prefix (``/ref`` finds ``/refund``);
    any other query matches title, text or shortcut anywhere.
    """
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    qs = canned_replies_visible_to(user=user)
    if query.startswith("/"):
        qs = qs.filter(shortcut__istartswith=query)
    elif query:
        qs = qs.filter(
            Q(title__icontains=query) | Q(text__icontains=query) | Q(shortcut__icontains=query)
        )
    return list(
        qs.select_related("group").order_by("-usage_count", "title", "pk")[:MAX_CANNED_RESULTS]
    )


def canned_reply_get_for(*, user: Any, pk: int) -> CannedReply:
    # canned_replies_visible_to is already scoped (restrict() for team and shared replies,
    # owner-only for personal ones); restricting again would hide a merchant agent's own
    # shop-less personal replies that the list shows them.
    try:
        return canned_replies_visible_to(user=user).get(pk=pk)
    except CannedReply.DoesNotExist:
        raise Http404 from None


# --- Knowledge suggestions ----------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "qa" or "article"
    id: int
    title: str
    text: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "score": self.score,
        }


def _knowledge_shops_q(*, user: Any, shop_id: int | None) -> Q:
    """The platform base plus the conversation's shop (a shop the user may not see: 404).

    Without a shop, a merchant agent gets their shops' entries and platform staff the
    platform's. restrict() is applied on top, so this can only narrow.
    """
    if shop_id is not None:
        if not can_see_shop(user, shop_id):
            raise Http404
        return Q(shop__isnull=True) | Q(shop_id=shop_id)
    own_shop_ids = list(user.shops.values_list("pk", flat=True))
    return Q(shop__isnull=True) | Q(shop_id__in=own_shop_ids)


def _term_filter(fields: tuple[str, ...], terms: list[str]) -> Q:
    condition = Q()
    for term in terms:
        for name in fields:
            condition |= Q(**{f"{name}__icontains": term})
    return condition


def _rough_score(weighted_fields: tuple[tuple[str, int], ...], terms: list[str]) -> Any:
    """A database-side first ranking (weighted count of fields containing each term), so
    the candidates cut off at MAX_CANDIDATES are the likeliest, not the first by title."""
    parts = [
        Case(When(**{f"{name}__icontains": term}, then=Value(weight)), default=Value(0))
        for term in terms
        for name, weight in weighted_fields
    ]
    total: Any = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def knowledge_suggestions_for(
    *, user: Any, text: str, limit: int = 3, shop_id: int | None = None
) -> list[Suggestion]:
    """Q&A pairs and articles relevant to a customer's message, best first."""
    query_tokens = tokenize((text or "")[:MAX_TEXT_LENGTH])
    if not query_tokens:
        return []
    # The longest terms are the most specific; a handful keeps the pre-filter query small.
    terms = sorted(set(query_tokens), key=len, reverse=True)[:12]

    shops_q = _knowledge_shops_q(user=user, shop_id=shop_id)
    qa_fields = (("keywords", 3), ("question", 2), ("answer", 1))
    qas = (
        restrict(KnowledgeQA.objects.filter(shops_q, is_active=True), user=user)
        .filter(_term_filter(tuple(f for f, _w in qa_fields), terms))
        .annotate(rough=_rough_score(qa_fields, terms))
        .order_by("-rough", "pk")
    )
    article_fields = (("title", 2), ("body", 1))
    articles = (
        restrict(KnowledgeArticle.objects.filter(shops_q, is_published=True), user=user)
        .filter(_term_filter(tuple(f for f, _w in article_fields), terms))
        .annotate(rough=_rough_score(article_fields, terms))
        .order_by("-rough", "pk")
    )

    documents: list[Document] = []
    found: dict[object, Suggestion] = {}
    for qa in qas.only("pk", "question", "answer", "keywords")[:MAX_CANDIDATES]:
        key = ("qa", qa.pk)
        documents.append(
            Document(
                key=key,
                fields=[
                    (3.0, keyword_tokens(qa.keywords)),
                    (2.0, tokenize(qa.question)),
                    (1.0, tokenize(qa.answer)),
                ],
            )
        )
        found[key] = Suggestion("qa", qa.pk, qa.question, qa.answer, 0.0)
    for article in articles.only("pk", "title", "body")[:MAX_CANDIDATES]:
        key = ("article", article.pk)
        documents.append(
            Document(
                key=key, fields=[(2.0, tokenize(article.title)), (1.0, tokenize(article.body))]
            )
        )
        found[key] = Suggestion("article", article.pk, article.title, article.body[:1000], 0.0)

    ranked = rank(query_tokens, documents)[: max(limit, 0)]
    results = []
    for score, ranked_key in ranked:
        base = found[ranked_key]
        results.append(Suggestion(base.kind, base.id, base.title, base.text, score))
    return results


def canned_reply_personal_get_for(*, user: Any, pk: int) -> CannedReply:
    """One of the user's own personal replies (404 for anything else, even if visible)."""
    qs = CannedReply.objects.filter(scope=CannedReply.Scope.PERSONAL, owner=user)
    try:
        return qs.get(pk=pk)
    except CannedReply.DoesNotExist:
        raise Http404 from None

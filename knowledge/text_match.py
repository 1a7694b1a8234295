"""Tokenising and ranking short texts for knowledge suggestions, Chinese and English alike.

Chinese has no spaces between words, so text is segmented with jieba (search mode, which
also yields the parts of long compounds: 退货政策 -> 退货, 政策, 退货政策). English words are
lower-cased and lightly stemmed (returns -> return). Filler words of both languages are
dropped so "我想退货怎么办" and "How do I return my order?" keep only what carries meaning.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import jieba

jieba.setLogLevel(logging.WARNING)  # it announces its dictionary loading at INFO

_ZH_STOPWORDS = (
    # Chinese function words and question fillers.
    "的 了 吗 呢 吧 啊 呀 嘛 么 我 你 他 她 它 我们 你们 想 要 是 在 有 和 与 就 都 也 还 "
    "怎么 怎么办 怎样 如何 什么 为什么 请问 请 一下 可以 能 能否 可否 这个 那个 这 那 "
    "没 没有 不 会 给 把 被 到 从 对 个 些 时候 现在 已经 帮 帮忙 谢谢 您好 你好"
)
_EN_STOPWORDS = (
    "a an the i me my we our you your he she it its they them to of in on at for from "
    "with and or but is are was were be been am do does did have has had can could would "
    "should will shall may might how what when where why which who whom this that these "
    "those there here please hi hello thanks thank not no yes so if then than as by about "
    "just want need get got"
)
STOPWORDS = frozenset(_ZH_STOPWORDS.split()) | frozenset(_EN_STOPWORDS.split())
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _stem(token: str) -> str:
    if token.isascii() and len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Meaningful tokens of a text, in order, repeats kept (they count as term frequency)."""
    tokens: list[str] = []
    for raw in jieba.lcut_for_search((text or "").lower()):
        token = raw.strip()
        if not token or not _WORDLIKE.search(token) or token in STOPWORDS:
            continue
        # Single characters (到, 开, a) say too little on their own.
        if len(token) < 2:
            continue
        tokens.append(_stem(token))
    return tokens


def keyword_tokens(keywords: str) -> list[str]:
    """Admin-entered keywords: split on commas/spaces, each also segmented."""
    parts = [p for p in re.split(r"[,，;；、\s]+", keywords or "") if p]
    out: list[str] = []
    for part in parts:
        out.append(_stem(part.lower()))
        out.extend(t for t in tokenize(part) if t != part.lower())
    return out


@dataclass
class Document:
    """One candidate: weighted token bags per field, and what to hand back."""

    key: object
    fields: Sequence[tuple[float, list[str]]]
    tokens: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = {t for _w, bag in self.fields for t in bag}

    def weight_of(self, token: str) -> float:
        # A term counts by the strongest field it appears in, a little more when repeated.
        best = 0.0
        for weight, bag in self.fields:
            count = bag.count(token)
            if count:
                best = max(best, weight * (1 + math.log(count)))
        return best


def rank(query_tokens: Iterable[str], documents: Sequence[Document]) -> list[tuple[float, object]]:
    """Documents sharing terms with the query, best first, scored by weighted TF-IDF overlap."""
    query = set(query_tokens)
    if not query or not documents:
        return []
    total = len(documents)
    df = {t: sum(1 for d in documents if t in d.tokens) for t in query}
    scored: list[tuple[float, object]] = []
    for doc in documents:
        shared = query & doc.tokens
        if not shared:
            continue
        score = sum(doc.weight_of(t) * (1 + math.log((total + 1) / (df[t] + 1))) for t in shared)
        # Longer texts match more by chance; a gentle length normalisation keeps that fair.
        score /= 1 + math.log(1 + len(doc.tokens)) / 4
        scored.append((round(score, 4), doc.key))
    scored.sort(key=lambda pair: -pair[0])
    return scored


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))

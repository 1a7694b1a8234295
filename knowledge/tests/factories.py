import factory

from knowledge.models import CannedReply, KnowledgeArticle, KnowledgeQA


class CannedReplyFactory(factory.django.DjangoModelFactory[CannedReply]):
    class Meta:
        model = CannedReply

    title = factory.Sequence(lambda n: f"Reply {n}")
    text = "Thank you for waiting."
    scope = CannedReply.Scope.SHARED


class KnowledgeQAFactory(factory.django.DjangoModelFactory[KnowledgeQA]):
    class Meta:
        model = KnowledgeQA

    question = factory.Sequence(lambda n: f"Question {n}")
    answer = "An answer."


class KnowledgeArticleFactory(factory.django.DjangoModelFactory[KnowledgeArticle]):
    class Meta:
        model = KnowledgeArticle

    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Body text."

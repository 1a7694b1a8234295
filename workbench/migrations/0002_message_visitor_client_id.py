"""Customer messages name their visitor, and a visitor's client ids are unique across
all their conversations (the index replaces a lookup before every customer send)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workbench', '0001_visitors_conversations_messages'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='visitor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='workbench.visitor', verbose_name='visitor'),
        ),
        # Existing customer messages get their visitor; where one visitor reused a client
        # id in two conversations (possible before this index), only the first keeps it.
        migrations.RunSQL(
            [
                "UPDATE workbench_message SET visitor_id = (SELECT c.visitor_id FROM "
                "workbench_conversation c WHERE c.id = workbench_message.conversation_id) "
                "WHERE sender = 'customer' AND client_id IS NOT NULL",
                "UPDATE workbench_message SET visitor_id = NULL WHERE id IN (SELECT m.id FROM "
                "workbench_message m WHERE m.visitor_id IS NOT NULL AND EXISTS (SELECT 1 FROM "
                "workbench_message e WHERE e.visitor_id = m.visitor_id AND e.client_id = "
                "m.client_id AND e.sender = 'customer' AND e.id < m.id))",
            ],
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.UniqueConstraint(condition=models.Q(('client_id__isnull', False), ('sender', 'customer'), ('visitor__isnull', False)), fields=('visitor', 'client_id'), name='message_unique_visitor_client_id'),
        ),
    ]

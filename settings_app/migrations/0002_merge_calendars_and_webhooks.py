# The calendars (tickets work) and the webhooks/quick-send models (integrations work) were
# built in parallel, each as an initial migration; this joins the two histories.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("settings_app", "0001_business_calendars_and_group_settings"),
        ("settings_app", "0001_webhooks_canned_replies_knowledge_base"),
    ]

    operations = []

# Channel accounts and issue types (live chat work) were built in parallel with the
# calendars and webhooks; this joins the histories.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("settings_app", "0002_merge_calendars_and_webhooks"),
        ("settings_app", "0001_channel_accounts_and_issue_types"),
    ]

    operations = []

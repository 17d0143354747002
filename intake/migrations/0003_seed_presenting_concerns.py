"""Seed the presenting concerns IOPs commonly treat (DOMAIN.md section 2)."""

from django.db import migrations

CONCERNS = [
    ("depression", "Depression"),
    ("anxiety", "Anxiety"),
    ("unhealthy-coping", "History of unhealthy coping"),
    ("daily-functioning", "Difficulty functioning in daily life"),
    ("substance-use-in-recovery", "Secondary substance use, in recovery"),
    ("crisis-grief-loss", "Personal crisis, grief or loss"),
    ("other", "Other"),
]


def seed(apps, schema_editor):
    PresentingConcern = apps.get_model("intake", "PresentingConcern")
    for position, (code, name) in enumerate(CONCERNS):
        PresentingConcern.objects.update_or_create(
            code=code, defaults={"name": name, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_inquiries_consents_waitlist")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

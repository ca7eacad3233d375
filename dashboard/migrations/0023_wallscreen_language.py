from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0022_display_language'),
    ]

    operations = [
        migrations.AddField(
            model_name='wallscreen',
            name='language',
            field=models.CharField(blank=True, choices=[('', "As the screen's browser asks"), ('en', 'English'), ('de', 'Deutsch')], default='', max_length=8),
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExpiryNotice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_id', fields.UUIDField()),
                ('organization_id', fields.UUIDField()),
                ('threshold', fields.CharField(max_length=3)),
                ('sent_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'expiry_notice', 'app': 'models', 'unique_together': (('key_id', 'threshold'),), 'pk_attr': 'id', 'table_description': 'One `api_key.expiring` notice sent for one key at one threshold (`30d`, `7d`, `1d`, `1h`).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationSettings',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('expiry_notices', fields.BooleanField()),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's own notification choices: no row means the defaults (notices on)."},
            bases=['Model'],
        ),
    ]

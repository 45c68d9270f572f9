from tortoise import migrations
from tortoise.migrations import operations as ops
from models.entities import LeakPolicy
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_key_restrictions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='KeyLeak',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_id', fields.UUIDField()),
                ('organization_id', fields.UUIDField()),
                ('url', fields.CharField(null=True, max_length=2048)),
                ('source', fields.CharField(max_length=64)),
                ('reporter', fields.CharField(max_length=8)),
                ('revoked', fields.BooleanField()),
                ('found_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'key_leak', 'app': 'models', 'indexes': [Index(fields=['key_id', 'found_at']), Index(fields=['organization_id', 'found_at'])], 'pk_attr': 'id', 'table_description': "A key found in public: by GitHub's secret scanning or a reporter (see `models.leaks`)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeakReportAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_address', fields.CharField(max_length=64)),
                ('reported_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leak_report_attempt', 'app': 'models', 'indexes': [Index(fields=['client_address', 'reported_at'])], 'pk_attr': 'id', 'table_description': 'One call of `POST /v1/keys/report-leak`, by client address only: counted so that one'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Organization',
            name='leak_policy',
            field=fields.CharEnumField(default=LeakPolicy.REVOKE, description='REVOKE: REVOKE\nNOTIFY: NOTIFY', db_default='REVOKE', enum_type=LeakPolicy, max_length=6),
        ),
    ]

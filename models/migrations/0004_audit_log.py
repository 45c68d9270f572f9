from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_teams')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditChain',
            fields=[
                ('organization_id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('head_sequence', fields.BigIntField()),
                ('head_hash', fields.CharField(max_length=64)),
                ('anchor_sequence', fields.BigIntField(default=0)),
                ('anchor_hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_chain', 'app': 'models', 'pk_attr': 'organization_id', 'table_description': "The head of each organization's chain (its last sequence and hash), and the anchor the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=26)),
                ('organization_id', fields.UUIDField()),
                ('sequence', fields.BigIntField()),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('action', fields.CharField(max_length=64)),
                ('actor_type', fields.CharField(max_length=8)),
                ('actor_id', fields.CharField(null=True, max_length=64)),
                ('actor_name', fields.CharField(null=True, max_length=300)),
                ('target_type', fields.CharField(null=True, max_length=32)),
                ('target_id', fields.CharField(null=True, max_length=64)),
                ('target_name', fields.CharField(null=True, max_length=300)),
                ('details', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('client_address', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=256)),
                ('request_id', fields.CharField(null=True, max_length=128)),
                ('previous_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'unique_together': (('organization_id', 'sequence'),), 'indexes': [Index(fields=['organization_id', 'occurred_at'])], 'pk_attr': 'id', 'table_description': 'One change to an organization, written in the transaction that made the change.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KeyTombstone',
            fields=[
                ('key_id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('organization_id', fields.UUIDField()),
                ('name', fields.CharField(max_length=100)),
                ('start', fields.CharField(max_length=32)),
                ('deleted_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_client_address', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'key_tombstone', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'last_seen_at', 'key_id'])], 'pk_attr': 'key_id', 'table_description': 'What is left of a deleted or purged key: enough to tell its owner that it is still being'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KeyUsage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_id', fields.UUIDField()),
                ('organization_id', fields.UUIDField()),
                ('hour', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(max_length=16)),
                ('count', fields.BigIntField()),
            ],
            options={'table': 'key_usage', 'app': 'models', 'unique_together': (('key_id', 'hour', 'outcome'),), 'pk_attr': 'id', 'table_description': 'Verifications of one key in one hour with one outcome (VALID, EXPIRED, …).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RevokedKeyUse',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_id', fields.UUIDField()),
                ('organization_id', fields.UUIDField()),
                ('hour', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('count', fields.BigIntField()),
            ],
            options={'table': 'revoked_key_use', 'app': 'models', 'unique_together': (('key_id', 'hour'),), 'pk_attr': 'id', 'table_description': 'Uses of one deleted or purged key (by its tombstone) in one hour.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecurityEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=26)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('action', fields.CharField(max_length=64)),
                ('actor_type', fields.CharField(max_length=8)),
                ('actor_id', fields.CharField(null=True, max_length=64)),
                ('actor_name', fields.CharField(null=True, max_length=300)),
                ('details', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('client_address', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=256)),
                ('request_id', fields.CharField(null=True, max_length=128)),
            ],
            options={'table': 'security_event', 'app': 'models', 'indexes': [Index(fields=['user_id', 'id']), Index(fields=['occurred_at'])], 'pk_attr': 'id', 'table_description': "One account-level event in a user's own security log (sign-up, sign-in, failed sign-in,"},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.restrictions import RestrictionMode
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_audit_log')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiKey',
            name='allowed_cidrs',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='allowed_origins',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='last_denied_address',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='last_denied_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='last_denied_origin',
            field=fields.CharField(null=True, max_length=300),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='last_denied_reason',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='restriction_mode',
            field=fields.CharEnumField(default=RestrictionMode.ENFORCE, description='ENFORCE: ENFORCE\nREPORT_ONLY: REPORT_ONLY', db_default='ENFORCE', enum_type=RestrictionMode, max_length=11),
        ),
    ]

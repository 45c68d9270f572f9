from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SignUp',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_address', fields.CharField(max_length=64)),
                ('signed_up_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_up', 'app': 'models', 'indexes': [Index(fields=['client_address', 'signed_up_at'])], 'pk_attr': 'id', 'table_description': 'One sign-up, by client address only: counted so that one address cannot create accounts'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiKey',
            name='created_by_key',
            field=fields.ForeignKeyField('models.ApiKey', source_field='created_by_key_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='ApiKey',
            index=Index(fields=['created_by_key_id']),
        ),
    ]

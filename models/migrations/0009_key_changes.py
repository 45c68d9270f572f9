from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_expiry_notices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='KeyChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.BigIntField()),
                ('names', fields.TextField(unique=False)),
            ],
            options={'table': 'key_change', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row (id 1) that every change to keys bumps in its own transaction, on SQLite only:'},
            bases=['Model'],
        ),
    ]

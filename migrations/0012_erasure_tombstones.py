"""Erasure: the parts an owner keeps for a lawful reason, and tombstones of erased records."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('erasure_request', 'kept_parts', CharField(max_length=200, default='')),
    )

    class ErasureTombstone(Model):
        customer_id = IntegerField(index=True)
        erased_at = DateTimeField()
        trigger = CharField(max_length=12, default='request')
        record_hash = CharField(max_length=64)
        contact_hashes = TextField(default='[]')
        key_id = CharField(max_length=16)
        kept = CharField(max_length=200, default='')
        removed = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'erasure_tombstone'
    db.create_tables([ErasureTombstone])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('erasure_tombstone'))
    migrator.migrate(migrator.drop_column('erasure_request', 'kept_parts'))

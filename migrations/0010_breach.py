"""The breach register: suspected breaches with their 72-hour clock for the authority."""
from peewee import *


def up(migrator, db):
    class StaffAccount(Model):
        class Meta:
            database = db
            table_name = 'staff_account'

    class Breach(Model):
        discovered_at = DateTimeField()
        description = TextField()
        staff_account = ForeignKeyField(StaffAccount, null=True, on_delete='RESTRICT')
        ip_address = CharField(max_length=45, default='')
        window_start = DateTimeField()
        window_end = DateTimeField()
        recorded_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        recorded_at = DateTimeField()
        authority_notified_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'breach'
    db.create_tables([Breach])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('breach'))

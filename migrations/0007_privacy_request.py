"""Privacy requests (access, correction, erasure) with their legal deadline."""
from peewee import *


def up(migrator, db):
    class Customer(Model):
        class Meta:
            database = db
            table_name = 'customer'

    class StaffAccount(Model):
        class Meta:
            database = db
            table_name = 'staff_account'

    class PrivacyRequest(Model):
        customer = ForeignKeyField(Customer, on_delete='RESTRICT')
        kind = CharField(max_length=12)
        made_via = CharField(max_length=12, default='staff')
        recorded_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        received_at = DateTimeField()
        due_at = DateTimeField(index=True)
        status = CharField(max_length=10, default='open', index=True)
        closed_at = DateTimeField(null=True)
        closed_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'privacy_request'
    db.create_tables([PrivacyRequest])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('privacy_request'))

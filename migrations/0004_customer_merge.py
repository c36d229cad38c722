"""Merging duplicates: customer.merged_into and the customer_merge record that allows undo."""
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

    migrator.migrate(
        migrator.add_column(
            'customer', 'merged_into_id',
            ForeignKeyField(Customer, field=Customer.id, null=True, on_delete='SET NULL')),
    )  # add_column indexes a foreign key by itself

    class CustomerMerge(Model):
        survivor = ForeignKeyField(Customer, backref='merges', on_delete='CASCADE')
        duplicate = ForeignKeyField(Customer, on_delete='CASCADE')
        merged_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        merged_at = DateTimeField()
        undone_at = DateTimeField(null=True)
        snapshot = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'customer_merge'
    db.create_tables([CustomerMerge])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('customer_merge'))
    migrator.migrate(migrator.drop_index('customer', 'customer_merged_into_id'),
                     migrator.drop_column('customer', 'merged_into_id'))

"""Drop the index on customer.merged_into_id (almost all NULL): it made SQLite answer the
customer list by scanning it and sorting a million rows instead of walking the sort index."""


def up(migrator, db):
    migrator.migrate(migrator.drop_index('customer', 'customer_merged_into_id'))


def down(migrator, db):
    migrator.migrate(migrator.add_index('customer', ('merged_into_id',), False))

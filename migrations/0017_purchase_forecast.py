"""The purchase forecast: each customer's expected next purchase and a churn-risk flag."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('customer', 'expected_next_purchase_at', DateTimeField(null=True)),
        migrator.add_column('customer', 'churn_risk', BooleanField(default=False)),
        migrator.add_index('customer', ('churn_risk',), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('customer', 'customer_churn_risk'),
        migrator.drop_column('customer', 'churn_risk'),
        migrator.drop_column('customer', 'expected_next_purchase_at'),
    )

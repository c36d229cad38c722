"""The purchase forecast: each customer's expected next purchase and a churn-risk flag.

The flag is added with a database default by plain SQL: Peewee's migrator would add it
nullable and then make it NOT NULL, which on SQLite rebuilds the customer table and loses
its search triggers (0003), and on PostgreSQL rewrites every row.
"""
from peewee import *

CHURN_RISK = {
    'sqlite': "ALTER TABLE customer ADD COLUMN churn_risk INTEGER NOT NULL DEFAULT 0",
    'postgresql': "ALTER TABLE customer ADD COLUMN churn_risk BOOLEAN NOT NULL DEFAULT false",
}


def _engine(db):
    return 'postgresql' if type(db).__name__.endswith('PostgresqlDatabase') else 'sqlite'


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('customer', 'expected_next_purchase_at', DateTimeField(null=True)),
    )
    db.execute_sql(CHURN_RISK[_engine(db)])
    db.execute_sql("CREATE INDEX customer_churn_risk ON customer (churn_risk)")


def down(migrator, db):
    db.execute_sql("DROP INDEX customer_churn_risk")
    migrator.migrate(
        migrator.drop_column('customer', 'churn_risk'),
        migrator.drop_column('customer', 'expected_next_purchase_at'),
    )

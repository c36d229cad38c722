"""Complaints: when the clock paused (the complaint is waiting for the customer)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('complaint', 'paused_at', DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column('complaint', 'paused_at'))

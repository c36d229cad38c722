"""Staff keep their interface language across devices: staff_account.preferred_language."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('staff_account', 'preferred_language', CharField(max_length=8, null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('staff_account', 'preferred_language'))

"""Server-side sign-in sessions (signing out ends a copied cookie too), and owners' two-factor
sign-in: the TOTP secret on the staff account and single-use recovery codes."""
from peewee import *


def up(migrator, db):
    class StaffAccount(Model):
        class Meta:
            database = db
            table_name = 'staff_account'

    class Customer(Model):
        class Meta:
            database = db
            table_name = 'customer'

    class RecoveryCode(Model):
        staff = ForeignKeyField(StaffAccount, on_delete='CASCADE')
        code_hash = CharField(max_length=64)
        used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'recovery_code'

    class SignInSession(Model):
        token_hash = CharField(max_length=64, unique=True)
        staff = ForeignKeyField(StaffAccount, null=True, on_delete='CASCADE')
        customer = ForeignKeyField(Customer, null=True, on_delete='CASCADE')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'sign_in_session'

    migrator.migrate(
        migrator.add_column('staff_account', 'totp_secret', BlobField(null=True)),
        migrator.add_column('staff_account', 'totp_key_id', CharField(max_length=32, default='')),
        migrator.add_column('staff_account', 'totp_enabled_at', DateTimeField(null=True)),
        migrator.add_column('staff_account', 'totp_last_step', IntegerField(default=0)),
    )
    db.create_tables([RecoveryCode, SignInSession])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table('sign_in_session'),
        migrator.drop_table('recovery_code'),
        migrator.drop_column('staff_account', 'totp_last_step'),
        migrator.drop_column('staff_account', 'totp_enabled_at'),
        migrator.drop_column('staff_account', 'totp_key_id'),
        migrator.drop_column('staff_account', 'totp_secret'),
    )

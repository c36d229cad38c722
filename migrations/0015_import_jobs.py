"""Imports: the uploaded file's details, customers' ids in other systems, what an import
changed (for undo), saved column mappings, and purchases brought in by an import."""
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

    class ImportJob(Model):
        class Meta:
            database = db
            table_name = 'import_job'

    class ExternalReference(Model):
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        system = CharField(max_length=30)
        value = CharField(max_length=100)
        class Meta:
            database = db
            table_name = 'external_reference'
            indexes = ((('system', 'value'), True),)

    class ImportChange(Model):
        import_job = ForeignKeyField(ImportJob, on_delete='CASCADE', index=False)
        customer = ForeignKeyField(Customer, on_delete='CASCADE', index=False)
        snapshot = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'import_change'
            indexes = ((('import_job', 'customer'), False), (('customer',), False))

    class SavedMapping(Model):
        name = CharField(max_length=100, unique=True)
        source = CharField(max_length=30)
        mapping = TextField(default='{}')
        created_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'saved_mapping'

    migrator.migrate(
        migrator.add_column('import_job', 'file_path', CharField(max_length=500, default='')),
        migrator.add_column('import_job', 'file_size', IntegerField(default=0)),
        migrator.add_column('import_job', 'checksum', CharField(max_length=64, default='')),
        migrator.add_column('import_job', 'source', CharField(max_length=30, default='spreadsheet')),
        migrator.add_column('import_job', 'job_id', IntegerField(null=True)),
        migrator.add_column('import_job', 'error', TextField(default='')),
        migrator.add_column(
            'purchase', 'import_job_id',
            ForeignKeyField(ImportJob, field=ImportJob.id, null=True, on_delete='SET NULL'),
        ),
    )
    db.create_tables([ExternalReference, ImportChange, SavedMapping])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table('saved_mapping'),
        migrator.drop_table('import_change'),
        migrator.drop_table('external_reference'),
        migrator.drop_index('purchase', 'purchase_import_job_id'),
        migrator.drop_column('purchase', 'import_job_id'),
        migrator.drop_column('import_job', 'error'),
        migrator.drop_column('import_job', 'job_id'),
        migrator.drop_column('import_job', 'source'),
        migrator.drop_column('import_job', 'checksum'),
        migrator.drop_column('import_job', 'file_size'),
        migrator.drop_column('import_job', 'file_path'),
    )

"""Export jobs run in the background: their language, current step, start time and the figures a web page shows."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('export_job', 'language', CharField(max_length=8, default='en')),
        migrator.add_column('export_job', 'step', CharField(max_length=200, default='')),
        migrator.add_column('export_job', 'filename', CharField(max_length=200, default='')),
        migrator.add_column('export_job', 'result_data', TextField(default='')),
        migrator.add_column('export_job', 'started_at', DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('export_job', 'language'),
        migrator.drop_column('export_job', 'step'),
        migrator.drop_column('export_job', 'filename'),
        migrator.drop_column('export_job', 'result_data'),
        migrator.drop_column('export_job', 'started_at'),
    )

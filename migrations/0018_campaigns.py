"""Campaigns and automations (issue 10): the campaigns and rules owners write, and one row per
message sent to a customer, unique per customer and occasion so nobody is sent one twice."""
from peewee import *


def up(migrator, db):
    def table(name):
        class Meta:
            database = db
            table_name = name

        return type(name.title().replace('_', ''), (Model,), {'Meta': Meta})

    StaffAccount = table('staff_account')
    Customer = table('customer')
    ConsentPurpose = table('consent_purpose')
    Segment = table('segment')

    class Campaign(Model):
        name = CharField(max_length=200)
        purpose = ForeignKeyField(ConsentPurpose, on_delete='RESTRICT')
        filters = TextField(default='{}')
        segment = ForeignKeyField(Segment, null=True, on_delete='SET NULL')
        content = TextField(default='{}')
        status = CharField(max_length=12, default='draft', index=True)
        send_at = DateTimeField(null=True)
        job_id = IntegerField(null=True)
        left_out = TextField(default='{}')
        created_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'campaign'

    class Automation(Model):
        name = CharField(max_length=200)
        kind = CharField(max_length=20)
        purpose = ForeignKeyField(ConsentPurpose, null=True, on_delete='RESTRICT')
        filters = TextField(default='{}')
        days = IntegerField(default=0)
        event_date = DateField(null=True)
        content = TextField(default='{}')
        active = BooleanField(default=True)
        created_by = ForeignKeyField(StaffAccount, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        last_run_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'automation'

    class OutgoingMessage(Model):
        customer = ForeignKeyField(Customer, on_delete='CASCADE')
        campaign = ForeignKeyField(Campaign, null=True, on_delete='CASCADE')
        automation = ForeignKeyField(Automation, null=True, on_delete='CASCADE')
        purpose = ForeignKeyField(ConsentPurpose, null=True, on_delete='RESTRICT')
        occasion = CharField(max_length=100)
        status = CharField(max_length=10, default='queued')
        reason = CharField(max_length=300, default='')
        language = CharField(max_length=8, default='')
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True, index=True)
        unsubscribed_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'outgoing_message'
            indexes = (
                (('customer', 'occasion'), True),
                (('campaign', 'status'), False),
                (('automation', 'status'), False),
            )

    db.create_tables([Campaign, Automation, OutgoingMessage])


def down(migrator, db):
    db.execute_sql('DROP TABLE outgoing_message')
    db.execute_sql('DROP TABLE automation')
    db.execute_sql('DROP TABLE campaign')

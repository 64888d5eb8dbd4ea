-- Work items filtered by customer (GET /api/v1/tasks|messages|credits|plays?customerId=…) read newest first by id:
-- without these the filter walked the whole id index backwards, its cost growing with the table.
CREATE INDEX tasks_account_id ON tasks(account_id, id);
CREATE INDEX messages_account_id ON messages(account_id, id);
CREATE INDEX credits_account_id ON credits(account_id, id);
CREATE INDEX plays_account_id ON plays(account_id, id);

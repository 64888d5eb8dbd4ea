-- The decision context reads each customer's open tasks (eligibility: no save call for a customer already in one).
CREATE INDEX tasks_open_account ON tasks(account_id) WHERE status = 'open';

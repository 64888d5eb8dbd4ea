-- Why the last attempt to approve and run this approval failed ({ code, message, at }); the approval stays pending
-- and can be approved again. Cleared when it is decided.
ALTER TABLE approvals ADD COLUMN last_error jsonb;

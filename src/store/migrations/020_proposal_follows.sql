-- A proposal that is a later step of another action's play (the notice after a service-recovery case, the
-- notice after a retention credit) names the decision it follows. It is a contact, so contact caps count it, but
-- not a second action for the customer's cooldown: it never competed for the one slot.
ALTER TABLE proposals ADD COLUMN follows_decision_id text;

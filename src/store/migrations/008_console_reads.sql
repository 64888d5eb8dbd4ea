-- What the console reads every few seconds: proposals and signals by time (KPIs, agent stats), and what ran
-- for a decision (proposals list, Customer 360 timeline, agent stats). Without these each read scans its table.
CREATE INDEX executions_decision ON executions(decision_id);
CREATE INDEX proposals_created ON proposals(created_at);
CREATE INDEX signals_received ON signals(received_at);

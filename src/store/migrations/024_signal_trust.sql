-- What the trust layer found in a signal's free text at intake (src/sense/intake.ts, src/trust): for now the
-- prompt-injection finding, as { "injection": { flagged, score, rules, classifierScore, fields } }. NULL when the
-- signal carries no free text to scan. A flagged signal lowers autonomy for its customer's proposals for 7 days
-- (policy `flagged-input-needs-approval`), so those reads are indexed, flagged rows only.
ALTER TABLE signals ADD COLUMN trust jsonb;
CREATE INDEX signals_injection_flagged_account ON signals (account_id, occurred_at)
  WHERE account_id IS NOT NULL AND (trust -> 'injection' ->> 'flagged') = 'true';
CREATE INDEX signals_injection_flagged_lead ON signals (lead_id, occurred_at)
  WHERE lead_id IS NOT NULL AND (trust -> 'injection' ->> 'flagged') = 'true';

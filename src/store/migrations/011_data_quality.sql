-- Data quality per source: a refused signal keeps the source it declared, as an accepted one does in signals.source.
ALTER TABLE quarantine ADD COLUMN signal_source text;

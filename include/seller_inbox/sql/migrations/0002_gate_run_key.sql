-- One gate outcome per store, stage and interval: a rerun replaces it only if the result changed.
ALTER TABLE ops.gate_run ADD CONSTRAINT gate_run_interval UNIQUE (store_id, stage, interval_start, interval_end);

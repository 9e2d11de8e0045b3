"""Real-time mail: a trigger per mailbox in Airflow's triggerer (``watch``) and the per-store
urgent DAG's stages (``urgent``) that ingest, classify and alert what just arrived, with the
scheduled pipeline's code, tables, idempotency and gates (docs/realtime.md).

Cheap to import: DAG parsing builds the triggers.
"""

"""Per-store seller-inbox DAGs of one kind, built from the store registry: Amazon's performance and feedback reports (``si_<store>_performance``).

Thin on purpose: all logic lives in the ``seller_inbox`` package. One file per kind keeps each
file's parse well inside Airflow's import timeout for thousands of stores (docs/operations.md).
"""

from seller_inbox.airflow_glue import RegistryError, build_dags

try:
    globals().update(build_dags(("performance",)))
except RegistryError:  # reported once, in one line, by si_pipeline.py
    pass

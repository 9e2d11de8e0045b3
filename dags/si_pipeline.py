"""Per-store seller-inbox DAGs of one kind, built from the store registry: the message pipelines (``si_<store>_pipeline``): mail and orders in, classify, alert, act, KPIs.

Thin on purpose: all logic lives in the ``seller_inbox`` package. One file per kind keeps each
file's parse well inside Airflow's import timeout for thousands of stores (docs/operations.md).
"""

from seller_inbox.airflow_glue import RegistryError, build_dags

try:
    globals().update(build_dags(("pipeline",)))
except RegistryError as err:  # one line naming file, store and field — no traceback wall
    raise RegistryError(str(err)) from None

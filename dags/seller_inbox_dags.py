"""Per-store seller-inbox DAGs, built from the store registry (see include/stores.yaml).

Thin on purpose: all logic lives in the ``seller_inbox`` package.
"""

from seller_inbox.airflow_glue import RegistryError, build_dags

try:
    globals().update(build_dags())
except RegistryError as err:  # one line naming file, store and field — no traceback wall
    raise RegistryError(str(err)) from None

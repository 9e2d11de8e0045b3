"""The spapi connection type reaches Airflow's UI through the provider entry point."""

import json
import subprocess
import sys

PROBE = """
import json
from airflow.providers_manager import ProvidersManager
pm = ProvidersManager()
hook = pm.hooks["spapi"]
print("JSON" + json.dumps({
    "hook": [hook.hook_class_name, hook.connection_type],
    "fields": sorted(k for k in pm.connection_form_widgets if k.startswith("extra__spapi__")),
    "behaviour": pm.field_behaviours["spapi"],
}))
"""


def test_spapi_connection_type_and_form_fields_are_registered():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    line = next((l for l in out.stdout.splitlines() if l.startswith("JSON")), None)
    assert line, out.stderr[-2000:]
    got = json.loads(line[4:])
    assert got["hook"] == ["seller_inbox.spapi.hook.SpApiHook", "spapi"]
    for f in ("refresh_token", "region", "authorized_at", "client_secret_created_at", "endpoint", "lwa_endpoint"):
        assert f"extra__spapi__{f}" in got["fields"]
    assert got["behaviour"]["relabeling"]["login"] == "LWA client id"
    assert "host" in got["behaviour"]["hidden_fields"]

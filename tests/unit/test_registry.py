"""The store registry: valid demo file, and one clear line for each kind of mistake."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from seller_inbox.config import RegistryError, load_registry

DEMO = Path(__file__).resolve().parents[2] / "include" / "stores.yaml"


def test_demo_registry_is_valid():
    reg = load_registry(DEMO)
    assert [s.id for s in reg.stores] == ["us-outdoor", "eu-home", "jp-gadgets"]
    eu = reg.store("eu-home")
    assert eu.marketplace_codes == ["DE", "FR", "IT", "ES"]
    assert eu.marketplace("FR").zone.key == "Europe/Paris"
    assert reg.store("us-outdoor").mode_for("order_status") == "auto"
    assert reg.store("us-outdoor").mode_for("damaged_defective") == "listen"  # default


def _broken(tmp_path, mutate) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    mutate(data)
    p = tmp_path / "stores.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize("mutate, expect", [
    (lambda d: d["stores"][1]["marketplaces"].append({"code": "XX"}), "store 'eu-home': field marketplaces[4].code: unknown marketplace 'XX'"),
    (lambda d: d["stores"].append(copy.deepcopy(d["stores"][0])), "field stores: duplicate store id 'us-outdoor'"),
    (lambda d: d["stores"][2]["marketplaces"][0].update(time_zone="Asia/Tokio"), "store 'jp-gadgets': field marketplaces[0].time_zone: unknown time zone 'Asia/Tokio'"),
    (lambda d: d["stores"][0]["connections"].pop("smtp"), "store 'us-outdoor': field connections.smtp: is required"),
    (lambda d: d["stores"][0]["modes"].update(wheres_my_order="auto"), "store 'us-outdoor': field modes: unknown intent 'wheres_my_order'"),
    (lambda d: d["stores"][0].update(region="eu"), "store 'us-outdoor': field (store): marketplace US is in SP-API region na, not eu"),
    (lambda d: d["stores"][0]["modes"].update(order_status="send"), "store 'us-outdoor': field modes.order_status:"),
])
def test_each_mistake_gets_one_line_naming_file_store_and_field(tmp_path, mutate, expect):
    p = _broken(tmp_path, mutate)
    with pytest.raises(RegistryError) as info:
        load_registry(p)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(p)) and expect in msg, msg


def test_cli_validate_exits_nonzero_with_one_line(tmp_path):
    p = _broken(tmp_path, lambda d: d["stores"][1]["marketplaces"][0].update(code="ZZ"))
    out = subprocess.run([sys.executable, "-m", "seller_inbox", "stores", "validate", str(p)], capture_output=True, text=True)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "store 'eu-home'" in lines[0] and "marketplaces[0].code" in lines[0]
    ok = subprocess.run([sys.executable, "-m", "seller_inbox", "stores", "validate", str(DEMO)], capture_output=True, text=True)
    assert ok.returncode == 0 and "3 stores" in ok.stdout


def test_registry_path_from_environment(tmp_path, monkeypatch):
    p = _broken(tmp_path, lambda d: d["stores"].pop())
    monkeypatch.setenv("SELLER_INBOX_STORES", str(p))
    assert [s.id for s in load_registry().stores] == ["us-outdoor", "eu-home"]


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(RegistryError, match="store registry not found"):
        load_registry(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stores: [\n  - id: a\n   x")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(bad)

"""`seller-inbox classify --input FILE|-`: JSONL in, JSONL out; bad lines give error objects."""

from __future__ import annotations

import json
import subprocess
import sys

from seller_inbox.classify.cli import main

LINES = [
    {"id": "m1", "subject": "Order delivery inquiry", "body": "Where is my package? It has not shipped yet.",
     "marketplace": "US", "from_addr": "abc@marketplace.amazon.com"},
    {"id": "m2", "body": "Le chargeur a pris feu pendant la nuit !", "marketplace": "FR"},
    "this is not json",
    {"id": "m3"},
    {"id": "m4", "body": "注文をキャンセルしてください。", "marketplace": "JP"},
]


def _write(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in LINES) + "\n\n",
                 encoding="utf-8")
    return p


def test_classify_file(tmp_path, capsys):
    rc = main(["classify", "--input", str(_write(tmp_path))])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 1  # some lines failed
    assert len(out) == 5
    assert out[0]["id"] == "m1" and out[0]["intent"] == "order_status" and out[0]["language"] == "en"
    assert set(out[0]) == {"id", "intent", "risk", "language", "confidence", "low_confidence"}
    assert out[1]["id"] == "m2" and out[1]["risk"] == "high" and out[1]["language"] == "fr"
    assert out[2]["id"] is None and "line 3" in out[2]["error"] and "invalid JSON" in out[2]["error"]
    assert out[3] == {"id": "m3", "error": "line 4: missing body"}
    assert out[4]["intent"] == "cancel_order" and out[4]["language"] == "ja"


def test_classify_stdin_via_the_installed_command(tmp_path):
    data = _write(tmp_path).read_bytes()
    a = subprocess.run([sys.executable, "-m", "seller_inbox.cli", "classify", "--input", "-"], input=data,
                       capture_output=True, check=False, timeout=120)
    b = subprocess.run([sys.executable, "-m", "seller_inbox.classify.cli", "classify", "--input", "-"], input=data,
                       capture_output=True, check=False, timeout=120)
    assert a.returncode == 1 and a.stdout == b.stdout  # deterministic across processes
    assert len(a.stdout.decode().splitlines()) == 5


def test_classify_without_input_explains(capsys):
    assert main(["classify"]) == 2
    assert "--input" in capsys.readouterr().err

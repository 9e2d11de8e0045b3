"""The Dockerfile builds: its steps executed for real, without a Docker engine (there is none here).

The build context is filtered by ``.dockerignore`` as Docker filters it, each ``COPY`` copies
from it into a folder that stands for ``/opt/airflow``, and each ``RUN`` runs there with a fresh
virtualenv's ``pip``/``python`` first on PATH, in the Dockerfile's order. What this cannot show:
that the base image ``apache/airflow`` itself pulls and runs (no engine, no registry here); the
README says so. The first ``pip install`` must succeed before ``include/`` exists, which is the
defect this guards against (a requirements line the filter missed).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from seller_inbox.paths import REPO_ROOT

IMAGE_ROOT = "/opt/airflow"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) in order: comments dropped, continuation lines joined."""
    out, buf = [], ""
    for line in dockerfile.read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def context_files(root: Path) -> list[Path]:
    """The build context as Docker sends it: .dockerignore patterns in order, ``!`` re-includes."""
    rules = [ln.strip() for ln in (root / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    kept = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".git/") or rel.startswith(".venv/"):
            continue
        excluded = False
        for rule in rules:
            neg = rule.startswith("!")
            pat = rule[1:] if neg else rule
            parts = rel.split("/")
            # a pattern matches the path or any parent folder of it
            hit = any(fnmatch.fnmatchcase("/".join(parts[:i]), pat) or
                      (pat.startswith("**/") and fnmatch.fnmatchcase(parts[i - 1], pat[3:]))
                      for i in range(1, len(parts) + 1))
            if hit:
                excluded = not neg
        if not excluded:
            kept.append(path)
    return kept


def test_the_dockerfile_steps_build_a_working_install(tmp_path):
    steps = instructions(REPO_ROOT / "Dockerfile")
    assert steps[0][0] == "FROM" and steps[0][1].startswith("apache/airflow:")
    image = tmp_path / "opt-airflow"
    image.mkdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    files = context_files(REPO_ROOT)
    rels = {p.relative_to(REPO_ROOT).as_posix() for p in files}
    assert "requirements.txt" in rels and any(r.startswith("include/seller_inbox/") for r in rels)
    assert not any(r.startswith(("tests/", "docs/", ".seller-inbox/")) or "__pycache__" in r for r in rels)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SELLER_INBOX", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    # pip skips byte-compiling what it installs (``--compile`` off: about 40 s of this test's 150 on
    # 2 cores); Python compiles what it imports when it imports it, so nothing that runs can differ
    env["PIP_COMPILE"] = "0"
    cwd = image
    ran = []
    for word, args in steps[1:]:
        if word == "WORKDIR":
            assert args == IMAGE_ROOT
            cwd = image
        elif word == "COPY":
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            srcs, dest = words[:-1], words[-1]
            target = cwd if dest in (".", "./") else Path(dest.replace(IMAGE_ROOT, str(image)))
            for src in srcs:
                chosen = files if src == "." else [p for p in files if p.relative_to(REPO_ROOT).as_posix() == src]
                assert chosen, f"COPY {src}: not in the build context"
                for p in chosen:
                    out = target / p.relative_to(REPO_ROOT)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(p, out)
        elif word == "RUN":
            cmd = args.replace(IMAGE_ROOT, str(image))
            p = subprocess.run(["bash", "-c", f"set -e; {cmd}"], cwd=cwd, env=env, capture_output=True, text=True,
                               timeout=1500)
            assert p.returncode == 0, f"RUN {args[:120]}… failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
            ran.append(args)
        else:
            assert word in ("ARG", "ENV", "USER", "LABEL", "EXPOSE"), f"unexpected instruction {word}"
    assert len(ran) == 2
    # the image's seller_inbox is the copy under /opt/airflow, installed editable, with its command
    p = subprocess.run([str(venv / "bin" / "python"), "-c", "import seller_inbox.paths as p; print(p.REPO_ROOT)"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(p.stdout.strip()) == image
    p = subprocess.run([str(venv / "bin" / "seller-inbox"), "--help"], env=env, capture_output=True, text=True)
    assert p.returncode == 0 and re.search(r"warehouse", p.stdout)

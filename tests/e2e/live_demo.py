"""The demo command as a user runs it, for the e2e tests: started in its own process group on a
fresh home and warehouse, its output read on a thread; and the KPI table it prints.

``make run`` (interactive) prints the closing lines after the table; ``--once`` exits after it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CLOSING = "Ctrl-C stops"
DAYS = "2"  # every e2e demo run covers the same two days with the default seed: their tables compare


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(home: Path, url: str) -> dict[str, str]:
    """A plain shell's environment (no Airflow settings of the test session) for a fresh home."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("AIRFLOW") or k.startswith("_AIRFLOW"))}
    env.update({"SELLER_INBOX_HOME": str(home), "SELLER_INBOX_WAREHOUSE_URL": url})
    return env


def kpi_table(out: str) -> str:
    """The KPI table ``print_kpis`` printed (title to bottom border), or '' if there is none."""
    lines = out.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("KPIs ")), None)
    if start is None:
        return ""
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("└")), len(lines) - 1)
    return "\n".join(line.rstrip() for line in lines[start:end + 1])


class Demo:
    """The running interactive command and everything it printed so far (read on a thread)."""

    def __init__(self, home: Path, url: str, port: int):
        self.home, self.url, self.port = home, url, port
        self.proc = subprocess.Popen([sys.executable, "-m", "seller_inbox", "demo", "--days", DAYS, "--port", str(port)],
                                     env=demo_env(home, url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def out(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float, start: int = 0) -> bool:
        """Until a line from index ``start`` on contains ``text``, the command exits, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines[start:]):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the reader drains the pipe
                return any(text in line for line in self.lines[start:])
            time.sleep(0.5)
        return False

    def children(self) -> dict[int, str]:
        """pid → command line of this command's direct children (/proc)."""
        found = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                found[int(d.name)] = cmd
        return found

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; then nothing of it is left running."""
        kids = self.children()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in kids:  # each component has its own process group; leave none behind
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

"""A real Dovecot IMAP server for tests, from Debian's packages, on a free loopback port.

``ensure_installed()`` installs ``dovecot-imapd`` with apt-get when missing (``apt-get
update`` first if the plain install fails). ``Dovecot(base_dir)`` writes a private config
(no SSL, plaintext auth, ``passwd-file`` passdb, ``static`` userdb as the unprivileged
``mail`` user when run as root, else as the current user, Maildir++ mailboxes under ``base_dir/mail/<user>``), runs ``dovecot -F`` in
the foreground and stops it on ``stop()``. Pytest fixture: ``dovecot_server`` (session).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def _find(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)


def ensure_installed() -> str:
    """Path of the dovecot binary, installing Debian's dovecot-imapd if needed."""
    exe = _find("dovecot")
    if exe and os.path.exists("/usr/lib/dovecot/imap"):
        return exe
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n", "-E"]
    cmd = sudo + ["apt-get", "install", "-y", "--no-install-recommends", "dovecot-imapd"]
    r = subprocess.run(cmd, env=APT_ENV, capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(sudo + ["apt-get", "update"], env=APT_ENV, capture_output=True, text=True, check=True)
        r = subprocess.run(cmd, env=APT_ENV, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"cannot install dovecot-imapd: {r.stderr[-2000:]}")
    exe = _find("dovecot")
    if not exe:
        raise RuntimeError("dovecot-imapd installed but no dovecot binary found")
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
instance_name = seller-inbox-test-{port}
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
mail_privileged_group =
mail_access_groups =
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    def __init__(self, base_dir: str | os.PathLike | None = None):
        self.exe = ensure_installed()
        self.base = Path(base_dir or tempfile.mkdtemp(prefix="dovecot-"))
        self.port = free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen | None = None
        self.root = os.geteuid() == 0
        if self.root:  # Dovecot refuses uid 0 for mail: use the unprivileged "mail" user
            pw = pwd.getpwnam("mail")
        else:  # everything runs as ourselves
            pw = pwd.getpwuid(os.getuid())
        self.uid, self.gid, self.user = pw.pw_uid, pw.pw_gid, pw.pw_name
        self.conf = self.base / "dovecot.conf"

    def start(self, timeout: float = 20.0) -> "Dovecot":
        b = self.base
        os.chmod(b, 0o755)
        for d in ("run", "state", "mail", "home"):
            (b / d).mkdir(exist_ok=True)
        if self.root:
            os.chown(b / "mail", self.uid, self.gid)
            os.chown(b / "home", self.uid, self.gid)
        (b / "users").write_text("".join(f"user{i:03d}:{{PLAIN}}{self.PASSWORD}::::::\n"
                                         for i in range(1, self.POOL + 1)), encoding="utf-8")
        os.chmod(b / "users", 0o644)
        conf = CONF.format(base=b, port=self.port, uid=self.uid, gid=self.gid)
        if not self.root:
            import grp

            group = grp.getgrgid(self.gid).gr_name
            conf += (f"default_login_user = {self.user}\ndefault_internal_user = {self.user}\n"
                     f"default_internal_group = {group}\n")
        self.conf.write_text(conf, encoding="utf-8")
        self.proc = subprocess.Popen([self.exe, "-F", "-c", str(self.conf)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stdout.read().decode(errors='replace')}\n{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start on port {self.port}: {self.log()}")

    def log(self) -> str:
        p = self.base / "dovecot.log"
        return p.read_text(errors="replace")[-3000:] if p.exists() else ""

    POOL = 64
    PASSWORD = "secret"

    def add_user(self, user: str, password: str) -> None:
        """Add a user. Dovecot re-reads a changed passwd-file at most once a second (and by
        mtime), so this moves the mtime forward and waits that second; tests prefer the
        instant ``new_user()`` from the pool made at start."""
        p = self.base / "users"
        before = p.stat().st_mtime
        with open(p, "a", encoding="utf-8") as fh:
            fh.write(f"{user}:{{PLAIN}}{password}::::::\n")
        stamp = max(time.time(), before + 1)
        os.utime(p, (stamp, stamp))
        time.sleep(1.1)

    def new_user(self) -> tuple[str, str]:
        """A fresh (user, password) from the pool provisioned at start (empty mailbox)."""
        self._next = getattr(self, "_next", 0) + 1
        if self._next > self.POOL:
            raise RuntimeError("dovecot test user pool exhausted")
        return f"user{self._next:03d}", self.PASSWORD

    def maildir(self, user: str) -> Path:
        return self.base / "mail" / user

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def connection_json(self, user: str, password: str, **extra) -> str:
        """An Airflow connection (JSON form for ``AIRFLOW_CONN_<ID>``) for this server and user."""
        import json

        return json.dumps({"conn_type": "imap", "host": self.host, "port": self.port, "login": user,
                           "password": password, "extra": {"use_ssl": False, **extra}})


@pytest.fixture(scope="session")
def dovecot_server(tmp_path_factory):
    srv = Dovecot(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    try:
        yield srv.start()
    finally:
        srv.stop()
        shutil.rmtree(srv.base, ignore_errors=True)

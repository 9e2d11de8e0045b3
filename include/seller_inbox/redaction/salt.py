"""The per-installation salt that keys every hash of buyer data (aliases, identifiers)."""

from __future__ import annotations

SALT_ENV = "SELLER_INBOX_SALT"


def installation_salt() -> bytes:
    """The per-installation salt for hashing buyer aliases.

    ``$SELLER_INBOX_SALT`` if set, else ``$SELLER_INBOX_HOME/alias-salt`` (default
    ``<repo>/.seller-inbox/alias-salt``, git-ignored), created with 32 random bytes if missing.
    Changing it changes every alias hash: keep it with the warehouse backups.
    """
    import os
    import secrets

    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    from seller_inbox.paths import home

    p = home() / "alias-salt"
    try:
        return p.read_text(encoding="ascii").strip().encode()
    except FileNotFoundError:
        value = secrets.token_hex(32)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(value + "\n", encoding="ascii")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, p)  # atomic create-if-missing; a concurrent winner keeps its value
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return p.read_text(encoding="ascii").strip().encode()

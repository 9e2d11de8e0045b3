"""Encryption at rest for buyer relay aliases: Fernet keys from an Airflow connection.

The connection ``seller_inbox_crypto`` (``CONN_ID``) holds ``{"keys": ["<newest>", "<older>", ...]}``
in its extra. The first key encrypts; every key decrypts (``MultiFernet``), so a key is
rotated by putting a new one first, running ``aliases.rotate`` and then dropping the old one
(docs/delivery.md). No key is ever written to the warehouse or a log.
"""

from __future__ import annotations

CONN_ID = "seller_inbox_crypto"


class CryptoNotConfigured(RuntimeError):
    """The key connection is missing or holds no usable key (one line, says what to do)."""


def keyring(conn_id: str = CONN_ID):
    """The MultiFernet of the connection's keys, newest first."""
    from cryptography.fernet import Fernet, MultiFernet

    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - any look-up failure means "not configured"
        raise CryptoNotConfigured(
            f"connection {conn_id!r} not found ({type(exc).__name__}); create it with extra "
            '{"keys": ["<key from: python -c \'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\'>"]}'
        ) from None
    keys = (conn.extra_dejson or {}).get("keys")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys:
        raise CryptoNotConfigured(f'connection {conn_id!r}: extra must be {{"keys": ["<newest Fernet key>", ...]}}')
    fernets = []
    for i, k in enumerate(keys):
        try:
            fernets.append(Fernet(str(k).encode()))
        except (ValueError, TypeError):
            raise CryptoNotConfigured(f"connection {conn_id!r}: keys[{i}] is not a Fernet key "
                                      "(32 url-safe base64-encoded bytes)") from None
    return MultiFernet(fernets)


def encrypt(plain: str, ring=None) -> str:
    return (ring or keyring()).encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str, ring=None) -> str:
    return (ring or keyring()).decrypt(token.encode("ascii")).decode("utf-8")

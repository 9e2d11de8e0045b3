"""Send-time rules: kill switches, quiet hours, caps. Read when a row is about to go, never
when it was queued, so flipping a switch or changing a limit applies to everything waiting.

Limits the registry sets per store (docs/delivery.md): ``daily_send_cap`` (sends in any 24
hours), ``max_sends_per_order``, ``approval_ttl_hours``, ``hold_replies_in_quiet_hours`` and
``schedules.deliver``. Kill switches: the registry's, or ``ops.delivery_control`` flipped from
the CLI (``seller-inbox kill-switch``) or the UI's approvals page, every flip audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

GLOBAL = "global"
# actions that are not answers to a buyer: quiet hours always hold them
PROACTIVE_ACTIONS = ("proactive", "review_request")
CAP_WINDOW = timedelta(days=1)  # the store's daily send cap counts sends in this rolling window


def daily_cap(store) -> int:
    return store.daily_send_cap


def per_order_limit(store) -> int:
    return store.max_sends_per_order


def approval_ttl(store) -> timedelta:
    return timedelta(hours=store.approval_ttl_hours)


def holds_replies_at_night(store) -> bool:
    return store.hold_replies_in_quiet_hours


def deliver_cron(store) -> str:
    return store.schedules.deliver


def kill_switch(cur, store, global_on: bool) -> str | None:
    """'global' or 'store' when a kill switch is on (registry or ``ops.delivery_control``), else None."""
    cur.execute("SELECT scope FROM ops.delivery_control WHERE kill_switch AND scope = ANY(%s)", ([GLOBAL, store.id],))
    table = {r[0] for r in cur.fetchall()}
    if global_on or GLOBAL in table:
        return "global"
    if store.kill_switch or store.id in table:
        return "store"
    return None


def flip(cur, scope: str, on: bool, changed_by: str, reason: str | None = None) -> None:
    """Set a kill switch (scope 'global' or a store id) in the caller's transaction; audited."""
    if not (changed_by or "").strip():
        raise ValueError("kill switch: say who flips it (changed_by)")
    cur.execute(
        """INSERT INTO ops.delivery_control (scope, kill_switch, changed_by, reason, changed_at)
           VALUES (%s, %s, %s, %s, now())
           ON CONFLICT (scope) DO UPDATE SET kill_switch = EXCLUDED.kill_switch, changed_by = EXCLUDED.changed_by,
               reason = EXCLUDED.reason, changed_at = now()""", (scope, on, changed_by, reason))
    cur.execute("INSERT INTO ops.delivery_control_log (scope, kill_switch, changed_by, reason) VALUES (%s, %s, %s, %s)",
                (scope, on, changed_by, reason))


def set_kill_switch(dsn: str, scope: str, on: bool, changed_by: str, reason: str | None = None) -> None:
    """Flip a kill switch (scope 'global' or a store id) without editing the registry; audited."""
    from seller_inbox import warehouse

    if not (changed_by or "").strip():
        raise ValueError("kill switch: say who flips it (changed_by)")
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        flip(cur, scope, on, changed_by, reason)
    conn.close()


def switches(cur, registry) -> list[dict]:
    """Every kill switch and who flipped it: one row per scope (``global``, then each store) with
    ``on`` (the effective state), ``registry`` (set in the YAML: only editing it turns that off),
    ``table`` (flipped from the CLI/UI) and the last flip's ``changed_by``, ``changed_at``, ``reason``.
    ``registry`` None (unreadable): the table alone."""
    cur.execute("SELECT scope, kill_switch, changed_by, changed_at, reason FROM ops.delivery_control")
    table = {r[0]: r[1:] for r in cur.fetchall()}
    scopes = [(GLOBAL, registry.defaults.global_kill_switch if registry else False)]
    scopes += [(s.id, s.kill_switch) for s in (registry.stores if registry else [])]
    scopes += [(scope, False) for scope in sorted(set(table) - {sc for sc, _ in scopes})]
    out = []
    for scope, in_registry in scopes:
        on, by, at, reason = table.get(scope, (False, None, None, None))
        out.append({"scope": scope, "on": bool(in_registry or on), "registry": bool(in_registry), "table": bool(on),
                    "changed_by": by, "changed_at": at, "reason": reason})
    return out


def quiet_release(store, marketplace: str | None, now: datetime) -> datetime | None:
    """When quiet hours end, if ``now`` is inside them in the marketplace's zone; else None."""
    qh = store.quiet_hours
    try:
        zone = store.marketplace(marketplace).zone if marketplace else store.marketplaces[0].zone
    except KeyError:
        zone = store.marketplaces[0].zone
    local = now.astimezone(zone)
    if not qh.contains(local.time()):
        return None
    release = local.replace(hour=qh.end.hour, minute=qh.end.minute, second=0, microsecond=0)
    if release <= local:
        release = (local + timedelta(days=1)).replace(hour=qh.end.hour, minute=qh.end.minute, second=0, microsecond=0)
    return release.astimezone(timezone.utc)

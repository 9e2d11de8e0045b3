"""Send-time rules: kill switches, quiet hours, caps. Read when a row is about to go, never
when it was queued, so flipping a switch or changing a limit applies to everything waiting.

Limits the registry may set per store (read with defaults until the registry declares them;
docs/delivery.md): ``daily_send_cap`` (sends in any 24 hours), ``max_sends_per_order``,
``approval_ttl_hours``, ``hold_replies_in_quiet_hours`` and ``schedules.deliver``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

DEFAULT_DAILY_CAP = 200
DEFAULT_PER_ORDER = 5
DEFAULT_APPROVAL_TTL_H = 48
DEFAULT_DELIVER_CRON = "*/5 * * * *"
GLOBAL = "global"
# actions that are not answers to a buyer: quiet hours always hold them
PROACTIVE_ACTIONS = ("proactive", "review_request")


def daily_cap(store) -> int:
    return int(getattr(store, "daily_send_cap", DEFAULT_DAILY_CAP))


def per_order_limit(store) -> int:
    return int(getattr(store, "max_sends_per_order", DEFAULT_PER_ORDER))


def approval_ttl(store) -> timedelta:
    return timedelta(hours=int(getattr(store, "approval_ttl_hours", DEFAULT_APPROVAL_TTL_H)))


def holds_replies_at_night(store) -> bool:
    return bool(getattr(store, "hold_replies_in_quiet_hours", False))


def deliver_cron(store) -> str:
    return getattr(store.schedules, "deliver", DEFAULT_DELIVER_CRON)


def kill_switch(cur, store, global_on: bool) -> str | None:
    """'global' or 'store' when a kill switch is on (registry or ``ops.delivery_control``), else None."""
    cur.execute("SELECT scope FROM ops.delivery_control WHERE kill_switch AND scope = ANY(%s)", ([GLOBAL, store.id],))
    table = {r[0] for r in cur.fetchall()}
    if global_on or GLOBAL in table:
        return "global"
    if store.kill_switch or store.id in table:
        return "store"
    return None


def set_kill_switch(dsn: str, scope: str, on: bool, changed_by: str, reason: str | None = None) -> None:
    """Flip a kill switch (scope 'global' or a store id) without editing the registry; audited."""
    import psycopg2

    if not changed_by:
        raise ValueError("kill switch: say who flips it (changed_by)")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO ops.delivery_control (scope, kill_switch, changed_by, reason, changed_at)
               VALUES (%s, %s, %s, %s, now())
               ON CONFLICT (scope) DO UPDATE SET kill_switch = EXCLUDED.kill_switch, changed_by = EXCLUDED.changed_by,
                   reason = EXCLUDED.reason, changed_at = now()""", (scope, on, changed_by, reason))
        cur.execute("INSERT INTO ops.delivery_control_log (scope, kill_switch, changed_by, reason) VALUES (%s, %s, %s, %s)",
                    (scope, on, changed_by, reason))
    conn.close()


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

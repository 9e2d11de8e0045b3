"""``seller-inbox sandbox serve`` and ``seller-inbox sandbox sellers``."""

from __future__ import annotations

import argparse
import json
import sys


def _serve(args: argparse.Namespace) -> int:
    from seller_inbox_dev.sandbox.server import serve

    busy = {}
    for spec in args.busy_seller:
        sid, _, n = spec.partition("=")
        if not sid or not n.isdigit():
            print(f"--busy-seller {spec!r}: expected SELLER_ID=ORDERS_PER_DAY, e.g. A1DEMOUSOUTDOOR=400",
                  file=sys.stderr)
            return 2
        busy[sid] = int(n)
    print(f"SP-API simulator on http://{args.host}:{args.port} (LWA: /auth/o2/token, seed {args.seed}, "
          f"time scale {args.time_scale}); demo client id sandbox-client / secret sandbox-secret", flush=True)
    serve(args.host, args.port, args.seed, extra_sellers=args.extra_sellers, time_scale=args.time_scale,
          orders_per_day=args.orders_per_day, seller_orders_per_day=busy)
    return 0


def _sellers(args: argparse.Namespace) -> int:
    from seller_inbox_dev.sandbox import CLIENT_ID, CLIENT_SECRET, refresh_token_for
    from seller_inbox_dev.sandbox.data import sellers

    rows = [{"seller_id": s.seller_id, "name": s.name, "region": s.region, "marketplaces": list(s.marketplaces),
             "refresh_token": refresh_token_for(s.seller_id)} for s in sellers(args.extra_sellers)]
    if args.json:
        print(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "sellers": rows}, indent=2))
    else:
        print(f"LWA client id: {CLIENT_ID}   client secret: {CLIENT_SECRET}")
        for r in rows:
            print(f"{r['seller_id']:<18} {r['region']:<3} {','.join(r['marketplaces']):<12} {r['refresh_token']}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("sandbox", help="the local SP-API simulator")
    sub = p.add_subparsers(dest="sandbox_command", required=True)
    s = sub.add_parser("serve", help="run the SP-API simulator (LWA + SP-API on one port)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--extra-sellers", type=int, default=0, help="generated sellers beside the three demo ones")
    s.add_argument("--time-scale", type=float, default=1.0, help="multiply every rate limit (1 = Amazon's)")
    s.add_argument("--orders-per-day", type=int, default=None, help="override every seller's daily volume")
    s.add_argument("--busy-seller", action="append", default=[], metavar="SELLER_ID=ORDERS_PER_DAY",
                   help="a busy seller (repeatable): windows of hundreds of orders, paged like Amazon")
    s.set_defaults(func=_serve)
    l = sub.add_parser("sellers", help="list the simulated sellers and their demo credentials")
    l.add_argument("--extra-sellers", type=int, default=0)
    l.add_argument("--json", action="store_true")
    l.set_defaults(func=_sellers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seller-inbox")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

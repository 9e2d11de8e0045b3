"""Seeded, deterministic data for the SP-API simulator: sellers, catalogue and orders.

Everything here is pure: the same (seed, seller, day) always gives the same orders, so any
window slices one store's order stream consistently (orders are generated per UTC day from
``(seed, seller_id, day)`` and then filtered by purchase date).

An order carries its whole life (purchase, payment, shipment or cancellation); ``as_of``
projects it to what Amazon would show at that instant (status and LastUpdateDate).
Buyer personal data (name, e-mail alias, address) exists only in ``SimOrder.buyer`` and is
served by the simulator only behind a Restricted Data Token.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache

from seller_inbox.domain import marketplaces as mp

UTC = timezone.utc


# --------------------------------------------------------------------------- sellers
@dataclass(frozen=True)
class SimSeller:
    seller_id: str
    name: str
    region: str
    marketplaces: tuple[str, ...]       # marketplace codes
    weights: tuple[float, ...]          # share of orders per marketplace
    orders_per_day: int                 # mean orders per UTC day over all its marketplaces
    afn_share: float                    # share of FBA orders
    category: str


DEMO_SELLERS: dict[str, SimSeller] = {
    s.seller_id: s
    for s in (
        SimSeller("A1DEMOUSOUTDOOR", "Outdoor Gear US", "na", ("US",), (1.0,), 60, 0.65, "outdoor"),
        SimSeller("A2DEMOEUHOME", "Home & Kitchen EU", "eu", ("DE", "FR", "IT", "ES"),
                  (0.45, 0.25, 0.15, 0.15), 70, 0.55, "home"),
        SimSeller("A3DEMOJPGADGETS", "Gadgets JP", "fe", ("JP",), (1.0,), 45, 0.7, "gadgets"),
    )
}

_EXTRA_LAYOUTS = (
    ("na", ("US", "CA"), (0.85, 0.15)),
    ("eu", ("UK", "DE", "FR"), (0.5, 0.3, 0.2)),
    ("fe", ("JP",), (1.0,)),
)
_CATEGORIES = ("outdoor", "home", "gadgets")


def extra_seller_id(n: int) -> str:
    """Id of the n-th generated extra seller (1-based): ``ASIM0001SELLER``..."""
    return f"ASIM{n:04d}SELLER"


def seller_profile(seller_id: str) -> SimSeller:
    """The profile of a demo seller, or a derived one for any other seller id."""
    if seller_id in DEMO_SELLERS:
        return DEMO_SELLERS[seller_id]
    h = int(hashlib.sha256(seller_id.encode()).hexdigest(), 16)
    region, codes, weights = _EXTRA_LAYOUTS[h % 3]
    return SimSeller(seller_id, f"Simulated seller {seller_id}", region, codes, weights,
                     40 + h % 30, 0.5 + (h % 5) / 10, _CATEGORIES[(h // 3) % 3])


def sellers(extra: int = 0) -> list[SimSeller]:
    """The three demo sellers plus ``extra`` generated ones."""
    return list(DEMO_SELLERS.values()) + [seller_profile(extra_seller_id(i)) for i in range(1, extra + 1)]


# --------------------------------------------------------------------------- catalogue
_TITLES = {
    "outdoor": [
        ("Ultralight Camping Tent 2 Person", "29.99"), ("Insulated Water Bottle 32oz", "24.95"),
        ("Trekking Poles Carbon (Pair)", "59.00"), ("Headlamp 400 Lumen Rechargeable", "19.99"),
        ("Down Sleeping Bag 20F", "129.00"), ("Hiking Daypack 28L", "49.50"),
        ("Camp Stove Compact", "34.99"), ("Merino Hiking Socks 3-Pack", "27.00"),
        ("Hammock with Tree Straps", "39.99"), ("Water Filter Straw", "17.49"),
    ],
    "home": [
        ("Edelstahl Bratpfanne 28 cm", "39.90"), ("Glas Vorratsdosen 6er Set", "24.99"),
        ("Bambus Schneidebrett", "19.95"), ("Elektrischer Milchaufschäumer", "29.99"),
        ("Leinen Tischdecke 140x240", "44.00"), ("Messerblock mit 6 Messern", "79.00"),
        ("Gusseisen Bräter 5 L", "89.90"), ("Silikon Backmatten 3er", "14.99"),
        ("Gewürzregal Drehbar", "32.50"), ("Kaffeemühle Keramikmahlwerk", "49.00"),
    ],
    "gadgets": [
        ("ワイヤレスイヤホン Bluetooth 5.3", "4980"), ("モバイルバッテリー 20000mAh", "3580"),
        ("USB-C 充電器 65W", "2980"), ("スマートウォッチ 防水", "6980"),
        ("ケーブル 3本セット", "1280"), ("Bluetooth スピーカー", "5480"),
        ("ノートPCスタンド", "2680"), ("ワイヤレスマウス 静音", "1980"),
        ("HDMI 切替器", "1580"), ("LED デスクライト", "3280"),
    ],
}
# Rough price factor per currency relative to the catalogue's own currency.
_FX = {"USD": 1, "CAD": 1.35, "MXN": 17, "BRL": 5, "GBP": 0.85, "EUR": 1, "PLN": 4.3, "SEK": 11,
       "JPY": 1, "AUD": 1.5, "SGD": 1.35}
_BASE_CCY = {"outdoor": "USD", "home": "EUR", "gadgets": "JPY"}


@dataclass(frozen=True)
class Product:
    asin: str
    seller_sku: str
    title: str
    price: Decimal      # in the catalogue's base currency


def catalogue(seller_id: str) -> list[Product]:
    prof = seller_profile(seller_id)
    out = []
    for i, (title, price) in enumerate(_TITLES[prof.category]):
        h = hashlib.sha256(f"{seller_id}:{i}".encode()).hexdigest().upper()
        asin = "B0" + "".join(c for c in h if c.isalnum())[:8]
        out.append(Product(asin, f"{prof.category[:3].upper()}-{i + 1:03d}-{h[:4]}", title, Decimal(price)))
    return out


def _price_in(p: Product, category: str, currency: str) -> Decimal:
    base = _BASE_CCY[category]
    if currency == base:
        v = p.price
    else:
        in_usd = p.price / Decimal(str(_FX.get(base, 1))) if base != "JPY" else p.price / Decimal(150)
        v = in_usd * (Decimal(150) if currency == "JPY" else Decimal(str(_FX.get(currency, 1))))
    return v.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"))


# --------------------------------------------------------------------------- orders
@dataclass(frozen=True)
class SimOrderItem:
    order_item_id: str
    asin: str
    seller_sku: str
    title: str
    quantity: int
    item_price: Decimal          # line total (price * quantity)


@dataclass(frozen=True)
class SimBuyer:
    """Personal data: only ever served behind a Restricted Data Token."""
    buyer_name: str
    buyer_email: str             # the anonymised relay alias
    city: str
    postal_code: str
    address_line1: str
    country_code: str


@dataclass(frozen=True)
class SimOrder:
    amazon_order_id: str
    seller_id: str
    marketplace: str             # code, e.g. "DE"
    marketplace_id: str
    purchase_date: datetime
    last_update_date: datetime   # as projected (final life unless as_of was given)
    order_status: str
    fulfillment_channel: str     # AFN / MFN
    earliest_ship_date: datetime
    latest_ship_date: datetime
    earliest_delivery_date: datetime
    latest_delivery_date: datetime
    order_total: Decimal
    currency: str
    items: tuple[SimOrderItem, ...]
    ship_service_level: str
    is_prime: bool
    is_business_order: bool
    buyer: SimBuyer
    # the whole life: times of each transition (None when it never happens)
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    canceled_at: datetime | None = None
    final_status: str = "Shipped"

    @property
    def sales_channel(self) -> str:
        return "Amazon." + mp.get(self.marketplace).domain

    @property
    def items_shipped(self) -> int:
        return sum(i.quantity for i in self.items) if self.order_status == "Shipped" else 0

    @property
    def items_unshipped(self) -> int:
        return sum(i.quantity for i in self.items) if self.order_status in ("Unshipped", "Pending") else 0

    def as_of(self, t: datetime) -> "SimOrder | None":
        """The order as Amazon shows it at ``t`` (None if not yet purchased)."""
        if t < self.purchase_date:
            return None
        status, upd = "Pending", self.purchase_date
        if self.paid_at and t >= self.paid_at:
            status, upd = "Unshipped", self.paid_at
        if self.shipped_at and t >= self.shipped_at:
            status, upd = "Shipped", self.shipped_at
        if self.canceled_at and t >= self.canceled_at:
            status, upd = "Canceled", self.canceled_at
        if status == self.order_status and upd == self.last_update_date:
            return self
        return replace(self, order_status=status, last_update_date=upd)


_FIRST = ["Cherri", "Lukas", "Marie", "Giulia", "Carlos", "Yuki", "James", "Emma", "Hiroshi", "Sofia",
          "Noah", "Lea", "Paul", "Chiara", "Lucía", "Haruto", "Olivia", "Jonas", "Camille", "Mateo"]
_LAST = ["Smith", "Müller", "Martin", "Rossi", "García", "Sato", "Johnson", "Schmidt", "Bernard", "Tanaka"]
_CITIES = {"US": "Denver", "CA": "Toronto", "UK": "Leeds", "DE": "Köln", "FR": "Lyon", "IT": "Torino",
           "ES": "Valencia", "JP": "大阪市", "MX": "Puebla", "BR": "Curitiba", "NL": "Utrecht",
           "PL": "Kraków", "SE": "Malmö", "AU": "Perth", "SG": "Singapore"}
_ORDER_PREFIX = {"na": (111, 112, 113, 114), "eu": (302, 303, 304, 305, 306, 28), "fe": (249, 250, 503)}
_SERVICE = {"AFN": ("Expedited", "Standard", "NextDay"), "MFN": ("Std US D2D Dom", "Standard", "Expedited")}


_EPOCH = date(2010, 1, 1)


def order_day(amazon_order_id: str) -> date | None:
    """The UTC purchase day encoded in a simulated order id (None if not one of ours)."""
    try:
        return _EPOCH + timedelta(days=int(amazon_order_id.split("-")[1][:4]))
    except (IndexError, ValueError):
        return None


def find_order(seller_id: str, amazon_order_id: str, seed: int = 42, *,
               orders_per_day: int | None = None) -> SimOrder | None:
    """The simulated order with this id (final state), or None."""
    day = order_day(amazon_order_id)
    if day is None:
        return None
    for o in day_orders(seller_id, day, seed, orders_per_day):
        if o.amazon_order_id == amazon_order_id:
            return o
    return None


def _rng(seed: int, seller_id: str, day: date, salt: str = "") -> random.Random:
    key = f"{seed}:{seller_id}:{day.isoformat()}:{salt}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


@lru_cache(maxsize=4096)
def day_orders(seller_id: str, day: date, seed: int = 42, orders_per_day: int | None = None) -> tuple["SimOrder", ...]:
    """All orders of one seller purchased on one UTC day (final state), cached."""
    return tuple(_day_orders(seller_id, day, seed, orders_per_day))


def _day_orders(seller_id: str, day: date, seed: int, orders_per_day: int | None) -> list[SimOrder]:
    prof = seller_profile(seller_id)
    rng = _rng(seed, seller_id, day)
    mean = orders_per_day if orders_per_day is not None else prof.orders_per_day
    # weekday pattern: busier on Sunday/Monday, quieter mid-week; +-15% noise
    factor = (1.15, 1.0, 0.9, 0.9, 0.95, 1.0, 1.2)[day.weekday()] * rng.uniform(0.85, 1.15)
    n = max(0, round(mean * factor)) if mean else 0
    cat = catalogue(seller_id)
    day_start = datetime.combine(day, time(0), tzinfo=UTC)
    dayno = (day - _EPOCH).days
    secs = sorted(rng.randrange(86400) for _ in range(n))
    out: list[SimOrder] = []
    for k, s in enumerate(secs):
        purchase = day_start + timedelta(seconds=s)
        code = rng.choices(prof.marketplaces, prof.weights)[0]
        m = mp.get(code)
        afn = rng.random() < prof.afn_share
        channel = "AFN" if afn else "MFN"
        # the middle group carries the purchase day, so the simulator finds any order by id
        # without an index: days since 2010-01-01 (4 digits) + 3 random digits
        oid = (f"{rng.choice(_ORDER_PREFIX[prof.region]):03d}-{dayno:04d}{rng.randrange(1000):03d}"
               f"-{rng.randrange(10**7):07d}")
        # items: mostly one line, sometimes two or three
        nlines = rng.choices((1, 2, 3), (0.78, 0.17, 0.05))[0]
        prods = rng.sample(cat, nlines)
        items = []
        total = Decimal(0)
        for j, p in enumerate(prods):
            q = rng.choices((1, 2, 3), (0.85, 0.12, 0.03))[0]
            price = _price_in(p, prof.category, m.currency) * q
            total += price
            items.append(SimOrderItem(f"{rng.randrange(10**13):014d}", p.asin, p.seller_sku, p.title, q, price))
        # timeline
        paid = purchase + timedelta(minutes=rng.randint(1, 45))
        ship_lo = purchase + timedelta(days=0 if afn else 1)
        ship_lo = ship_lo.replace(hour=7, minute=0, second=0) if not afn else purchase + timedelta(hours=2)
        ship_hi = ship_lo + timedelta(days=1 if afn else 2)
        deliv_lo = ship_hi + timedelta(days=1 if afn else 2)
        deliv_hi = deliv_lo + timedelta(days=1 if afn else 4)
        r = rng.random()
        shipped = canceled = None
        final = "Shipped"
        if r < 0.05:
            final = "Canceled"
            canceled = purchase + timedelta(minutes=rng.randint(10, 60 * 20))
            if canceled < paid:
                paid = None
        else:
            late = (not afn) and rng.random() < 0.04
            span = (ship_hi - ship_lo).total_seconds()
            shipped = ship_lo + timedelta(seconds=int(rng.uniform(0, span)))
            if late:
                shipped = ship_hi + timedelta(hours=rng.randint(2, 30))
            if shipped <= paid:
                shipped = paid + timedelta(minutes=rng.randint(20, 240))
        last = canceled or shipped or paid or purchase
        first, lastname = rng.choice(_FIRST), rng.choice(_LAST)
        alias = hashlib.sha1(f"{seed}:{oid}".encode()).hexdigest()[:16]
        buyer = SimBuyer(f"{first} {lastname}", f"{alias}@marketplace.amazon.{m.domain}",
                         _CITIES.get(code, "City"), f"{rng.randrange(10000, 99999)}",
                         f"{rng.randint(1, 200)} Example Street", code if code != "UK" else "GB")
        out.append(SimOrder(
            amazon_order_id=oid, seller_id=seller_id, marketplace=code, marketplace_id=m.marketplace_id,
            purchase_date=purchase, last_update_date=last, order_status=final,
            fulfillment_channel=channel, earliest_ship_date=ship_lo, latest_ship_date=ship_hi,
            earliest_delivery_date=deliv_lo, latest_delivery_date=deliv_hi,
            order_total=total, currency=m.currency, items=tuple(items),
            ship_service_level=rng.choice(_SERVICE[channel]), is_prime=afn and rng.random() < 0.7,
            is_business_order=rng.random() < 0.06, buyer=buyer, paid_at=paid, shipped_at=shipped,
            canceled_at=canceled, final_status=final,
        ))
    return out


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def generate_orders(seller_id: str, start: datetime, end: datetime, seed: int = 42, *,
                    as_of: datetime | None = None, orders_per_day: int | None = None) -> list[SimOrder]:
    """Orders of ``seller_id`` purchased in ``[start, end)``, ordered by purchase date.

    Deterministic and pure. Naive datetimes are taken as UTC. Without ``as_of`` each order
    is in its final state (Shipped / Canceled, LastUpdateDate = its last transition); with
    ``as_of`` the orders are projected to that instant and later purchases are dropped.
    ``orders_per_day`` overrides the seller's mean daily volume (tests use small volumes).
    """
    start, end = _utc(start), _utc(end)
    if as_of is not None:
        as_of = _utc(as_of)
    out: list[SimOrder] = []
    day = start.date()
    while datetime.combine(day, time(0), tzinfo=UTC) < end:
        for o in day_orders(seller_id, day, seed, orders_per_day):
            if start <= o.purchase_date < end:
                if as_of is not None:
                    o = o.as_of(as_of)
                    if o is None:
                        continue
                out.append(o)
        day += timedelta(days=1)
    out.sort(key=lambda o: (o.purchase_date, o.amazon_order_id))
    return out


# The longest an order's LastUpdateDate can trail its PurchaseDate (used to find orders
# changed in a window without generating all history).
MAX_UPDATE_LAG = timedelta(days=6)


# --------------------------------------------------------------------------- shipments
# Carriers per marketplace: (carrier, shipping service, tracking number pattern). Pattern
# letters: "9" a digit, "A" an upper-case letter or digit; anything else is literal.
_CARRIERS = {
    "US": (("UPS", "UPS Ground", "1Z AAAAAA 99 9999 9999"), ("USPS", "USPS Ground Advantage", "9400 9999 9999 9999 9999 99"),
           ("FedEx", "FedEx Home Delivery", "9999 9999 9999")),
    "CA": (("Canada Post", "Expedited Parcel", "9999 9999 9999 9999"), ("Purolator", "Purolator Ground", "999999999999")),
    "UK": (("Royal Mail", "Tracked 48", "AA999999999GB"), ("DPD", "DPD Next Day", "99999999999999")),
    "DE": (("DHL", "DHL Paket", "00340434999999999999"), ("Hermes", "Hermes Paket", "H999999999999999999A"),
           ("DPD", "DPD Classic", "09999999999999")),
    "FR": (("Colissimo", "Colissimo Domicile", "6A99999999999"), ("Chronopost", "Chrono 13", "XA999999999FR")),
    "IT": (("BRT", "BRT Express", "999999999999999"), ("Poste Italiane", "Poste Delivery Business", "9A99999999999")),
    "ES": (("Correos", "Paq Estándar", "PQ9AA99999999999999999A"), ("SEUR", "SEUR 24", "99999999999999")),
    "JP": (("ヤマト運輸", "宅急便", "9999-9999-9999"), ("佐川急便", "飛脚宅配便", "9999-9999-9999"),
           ("日本郵便", "ゆうパック", "9999-9999-9999")),
}
_DEFAULT_CARRIERS = (("DHL", "DHL Express", "9999999999"),)
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class SimPackage:
    """One merchant-fulfilled package over its whole life (the 2026-01-01 ``OrderPackage``)."""
    package_reference_id: str
    carrier: str
    shipping_service: str
    tracking_number: str
    created_time: datetime        # label created (before the hand-over)
    ship_time: datetime           # handed to the carrier
    items: tuple[tuple[str, int], ...]   # (order item id, quantity)


@dataclass(frozen=True)
class SimDelivery:
    """When and how a shipped order reached the buyer (Amazon knows; the Orders API shows it only
    as package statuses, without a date)."""
    delivered_at: datetime | None     # None: never delivered (undeliverable, returned to the seller)
    failed_at: datetime | None        # when the carrier gave up (undeliverable)


def _order_rng(seed: int, o: SimOrder, salt: str) -> random.Random:
    # a stream of its own per order: order generation above is untouched by what is drawn here
    key = f"{seed}:{o.seller_id}:{o.amazon_order_id}:{salt}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def _tracking(rng: random.Random, pattern: str) -> str:
    return "".join(rng.choice("0123456789") if c == "9" else rng.choice(_ALNUM) if c == "A" else c
                   for c in pattern).replace(" ", "")


def delivery(o: SimOrder, seed: int = 42) -> SimDelivery | None:
    """The delivery of a shipped order (None if it never ships): mostly inside the promised
    window, a few late, about 1 in 50 never delivered."""
    if o.shipped_at is None:
        return None
    rng = _order_rng(seed, o, "delivery")
    r = rng.random()
    lo = max(o.earliest_delivery_date, o.shipped_at + timedelta(hours=12))
    hi = max(o.latest_delivery_date, lo)
    if r < 0.02:
        return SimDelivery(None, hi + timedelta(hours=rng.randint(6, 72)))
    if r < 0.06:
        return SimDelivery(hi + timedelta(hours=rng.randint(6, 72)), None)
    return SimDelivery(lo + timedelta(seconds=int(rng.uniform(0, (hi - lo).total_seconds()))), None)


def packages(o: SimOrder, seed: int = 42) -> tuple[SimPackage, ...]:
    """The packages of a merchant-fulfilled order (FBA orders have none in the API): one, or two
    when a multi-line order is split."""
    if o.fulfillment_channel != "MFN" or o.shipped_at is None:
        return ()
    rng = _order_rng(seed, o, "packages")
    carrier, service, pattern = rng.choice(_CARRIERS.get(o.marketplace, _DEFAULT_CARRIERS))
    groups = [o.items]
    if len(o.items) > 1 and rng.random() < 0.3:
        groups = [o.items[:1], o.items[1:]]
    out = []
    for n, group in enumerate(groups, 1):
        ship = o.shipped_at + timedelta(minutes=rng.randint(0, 90) if n > 1 else 0)
        out.append(SimPackage(str(n), carrier, service, _tracking(rng, pattern),
                              ship - timedelta(minutes=rng.randint(20, 240)), ship,
                              tuple((i.order_item_id, i.quantity) for i in group)))
    return tuple(out)


def package_status(o: SimOrder, p: SimPackage, t: datetime, seed: int = 42) -> tuple[str, str] | None:
    """(status, detailedStatus) of a package at ``t`` in the model's vocabulary; None before
    its label exists."""
    if t < p.created_time:
        return None
    if t < p.ship_time:
        return "PENDING", "PENDING_PICK_UP"
    d = delivery(o, seed)
    if d is not None and d.delivered_at is not None and t >= d.delivered_at:
        return "DELIVERED", "DELIVERED"
    if d is not None and d.failed_at is not None and t >= d.failed_at:
        return "UNDELIVERABLE", "RETURNING_TO_SELLER"
    end = d.delivered_at if d is not None and d.delivered_at is not None else None
    if end is not None and t >= end - timedelta(hours=8):
        return "IN_TRANSIT", "OUT_FOR_DELIVERY"
    return "IN_TRANSIT", "PICKED_UP" if t < p.ship_time + timedelta(hours=12) else "AT_DESTINATION_FC"


# Solicitations: "between 5 and 30 days after the order delivery date" (Solicitations API docs).
SOLICITATION_OPENS = timedelta(days=5)
SOLICITATION_CLOSES = timedelta(days=30)


def solicitation_window(o: SimOrder, seed: int = 42) -> tuple[datetime, datetime] | None:
    """When a review request may be sent for ``o`` (None: never — not delivered)."""
    d = delivery(o, seed)
    if d is None or d.delivered_at is None:
        return None
    return d.delivered_at + SOLICITATION_OPENS, d.delivered_at + SOLICITATION_CLOSES

"""The one template environment: Jinja2 in a sandbox, templates per locale under ``templates/``.

A template file has two blocks, ``subject`` and ``body``. Templates may only read the context
they are given (immutable sandbox, strict undefined): a typo fails loudly instead of sending an
empty sentence to a buyer. The variables a template may use are listed in ``VARIABLES`` and
documented in docs/templates.md; every one the caller leaves out is None, so a template tests
``{% if order.tracking_number %}`` and never sees an undefined fact.

Dates (``today``, ``order.ship_date`` ...) arrive as ``date`` objects (ISO strings are parsed),
so a template compares them with ``today`` and never states a past date as the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from seller_inbox.domain.languages import TEMPLATE_LOCALES

TEMPLATES = Path(__file__).resolve().parent / "templates"
FALLBACK_LOCALE = "en"
LOCALES = TEMPLATE_LOCALES

# every variable a template may read, with its meaning (docs/templates.md shows this table)
VARIABLES: dict[str, dict[str, str]] = {
    "store": {"id": "store id from the registry", "name": "the store's name, used to sign"},
    "order": {
        "id": "Amazon order id (3-7-7 digits)",
        "status": "Pending | Unshipped | PartiallyShipped | Shipped | Delivered | Canceled",
        "ship_by": "date: latest ship date promised",
        "ship_date": "date: when it was shipped",
        "carrier": "carrier name (DHL, UPS, ヤマト運輸 ...)",
        "tracking_number": "the carrier's tracking number",
        "delivery_start": "date: first day of the delivery window",
        "delivery_end": "date: last day of the delivery window",
        "return_by": "date: last day to start a return",
        "refund_amount": "refund already issued, formatted with its currency (\"19,99 €\")",
        "refund_date": "date: when the refund was issued",
        "item": "product title, short",
    },
    "message": {"subject_topic": "topic of the buyer's message", "intent": "the classified intent"},
    "answer": {"": "the text a person wrote (skeleton templates); None shows [ANSWER]"},
    "today": {"": "date: today in the marketplace's time zone (default: today in UTC)"},
    "locale": {"": "the template's locale (set by render)"},
}
_DATES = ("ship_by", "ship_date", "delivery_start", "delivery_end", "return_by", "refund_date")


@dataclass(frozen=True)
class Spec:
    kind: str                 # reply | proactive | review_request (what the linter checks)
    intents: tuple[str, ...]  # intents it answers
    needs_person: bool        # a skeleton: a person writes the answer before it is sent
    about: str


CATALOG: dict[str, Spec] = {
    "order_status": Spec("reply", ("order_status",), False, "where is my order: status, carrier, tracking, dates"),
    "not_received": Spec("reply", ("not_received",), False, "parcel not arrived: what to check, what happens next"),
    "delivery_problem": Spec("reply", ("damaged_defective", "wrong_item"), False, "damaged, defective or wrong item"),
    "return_refund": Spec("reply", ("return_refund",), False, "how to return; refund issued or pending"),
    "cancellation": Spec("reply", ("cancel_order",), False, "cancellation request, by order status"),
    "invoice": Spec("reply", ("invoice_request",), False, "where to download the invoice"),
    "product_question": Spec("reply", ("product_question", "size_fit"), True, "skeleton: a person answers"),
    "generic_reply": Spec("reply", (), True, "skeleton for any other intent"),
    "review_request": Spec("review_request", (), False, "preview of the Solicitations API review request"),
    "delivery_confirmation": Spec("proactive", (), False, "proactive: confirm delivery details (Messaging API)"),
}
INTENT_TEMPLATES = {intent: name for name, spec in CATALOG.items() for intent in spec.intents}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


class TemplateError(Exception):
    """A template that cannot be rendered: one line naming the template and the problem."""


def format_date(value, locale: str) -> str:
    """A date as buyers of ``locale`` write it."""
    if not isinstance(value, date):
        return str(value)
    if locale in ("ja", "zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    if locale == "en":
        return f"{_MONTHS_EN[value.month - 1]} {value.day}, {value.year}"
    if locale == "de":
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    if locale == "nl":
        return f"{value.day:02d}-{value.month:02d}-{value.year}"
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


@lru_cache(maxsize=1)
def environment():
    from jinja2 import FileSystemLoader, StrictUndefined, pass_context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for Amazon's relay; the linter rejects markup
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["date"] = pass_context(lambda ctx, v: format_date(v, ctx.get("locale") or FALLBACK_LOCALE))
    return env


def locales_for(name: str) -> list[str]:
    return sorted(p.parent.name for p in TEMPLATES.glob(f"*/{name}.j2"))


def resolve_locale(name: str, preferred: list[str]) -> str | None:
    have = set(locales_for(name))
    for loc in [*preferred, FALLBACK_LOCALE]:
        if loc and loc in have:
            return loc
    return None


def _as_date(v):
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v).strip()[:10])


def prepare(context: dict, locale: str) -> dict:
    """The context a template sees: every documented variable present (None when not given),
    dates as ``date``. The legacy ``order.delivery_window`` ("2026-11-20 – 2026-11-22") fills
    ``delivery_start``/``delivery_end`` when those are not given."""
    from seller_inbox import clock

    given = dict(context or {})
    order = dict.fromkeys(VARIABLES["order"])
    order.update(given.get("order") or {})
    window = order.pop("delivery_window", None)
    if window and not order.get("delivery_end"):
        parts = [p.strip() for p in str(window).replace("–", "/").replace(" - ", "/").split("/") if p.strip()]
        order["delivery_start"], order["delivery_end"] = parts[0], parts[-1]
    for k in _DATES:
        try:
            order[k] = _as_date(order.get(k))
        except ValueError:
            raise TemplateError(f"order.{k} is not a date: {order.get(k)!r} (give a date or YYYY-MM-DD)") from None
    store = {"id": None, "name": None, **(given.get("store") or {})}
    message = dict.fromkeys(VARIABLES["message"])
    message.update(given.get("message") or {})
    today = _as_date(given.get("today")) or clock.now().date()
    return {**given, "store": store, "order": order, "message": message, "answer": given.get("answer"),
            "today": today, "locale": locale}


def _blocks(tpl, ctx: dict, label: str) -> tuple[str, str]:
    from jinja2 import TemplateError as JinjaError

    missing = {"subject", "body"} - set(tpl.blocks)
    if missing:
        raise TemplateError(f"{label}: needs the block(s) {', '.join(sorted(missing))}")
    try:
        c = tpl.new_context(ctx)
        subject = "".join(tpl.blocks["subject"](c)).strip()
        body = "".join(tpl.blocks["body"](c)).strip()
    except JinjaError as exc:
        raise TemplateError(f"{label}: {exc.__class__.__name__}: {exc}") from None
    return subject, body


def render(name: str, locale: str, context: dict) -> tuple[str, str]:
    """Render (subject, body) of template ``<locale>/<name>.j2``."""
    tpl = environment().get_template(f"{locale}/{name}.j2")
    return _blocks(tpl, prepare(context, locale), f"{locale}/{name}.j2")


def render_source(source: str, locale: str, context: dict, label: str = "template") -> tuple[str, str]:
    """Render a template given as text (``lint-template`` on a file being written)."""
    from jinja2 import TemplateSyntaxError

    try:
        tpl = environment().from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{label}: line {exc.lineno}: {exc.message}") from None
    return _blocks(tpl, prepare(context, locale), label)


# ---------------------------------------------------------------------------------- samples
SAMPLE_TODAY = date(2026, 11, 20)
_ANSWERS = {
    "en": "The tent is waterproof up to 3,000 mm and the poles are made of aluminium.",
    "de": "Das Zelt ist bis 3.000 mm wasserdicht und die Stangen sind aus Aluminium.",
    "fr": "La tente est étanche jusqu'à 3 000 mm et les arceaux sont en aluminium.",
    "it": "La tenda è impermeabile fino a 3.000 mm e i paletti sono in alluminio.",
    "es": "La tienda es impermeable hasta 3.000 mm y las varillas son de aluminio.",
    "ja": "このテントの耐水圧は3,000mmで、ポールはアルミ製です。",
}


def sample_contexts(name: str, locale: str) -> list[tuple[str, dict]]:
    """Contexts that exercise every branch of the shipped templates (tests, lint-template,
    previews): shipped with tracking, window ahead, window past, delivered, not shipped, late,
    cancelled, refund issued, no facts at all."""
    t = SAMPLE_TODAY
    base = {"store": {"id": "demo", "name": "Outdoor Gear Co."}, "today": t,
            "message": {"subject_topic": "Trail tent", "intent": "order_status"},
            "answer": _ANSWERS.get(locale, _ANSWERS["en"])}

    def order(**facts):
        return {**base, "order": {"id": "111-0000001-0000001", "item": "Trail Tent 3P", **facts}}

    shipped = {"status": "Shipped", "ship_date": t - timedelta(days=2), "carrier": "DHL",
               "tracking_number": "00340434161094042557"}
    return [
        ("shipped, window ahead", order(**shipped, delivery_start=t + timedelta(days=1), delivery_end=t + timedelta(days=3))),
        ("shipped, window today", order(**shipped, delivery_start=t - timedelta(days=1), delivery_end=t)),
        ("shipped, window past", order(**shipped, delivery_start=t - timedelta(days=5), delivery_end=t - timedelta(days=2),
                                       return_by=t + timedelta(days=28))),
        ("delivered", order(status="Delivered", ship_date=t - timedelta(days=4), delivery_end=t - timedelta(days=1),
                            return_by=t + timedelta(days=29), refund_amount="24,99 €", refund_date=t - timedelta(days=1))),
        ("not shipped yet", order(status="Unshipped", ship_by=t + timedelta(days=1))),
        ("late to ship", order(status="Unshipped", ship_by=t - timedelta(days=1))),
        ("cancelled", order(status="Canceled")),
        ("no facts", {**base, "order": {"id": "111-0000002-0000002"}, "answer": None if name not in
                      ("product_question", "generic_reply") else base["answer"]}),
        ("legacy act context", {"store": {"id": "demo", "name": "Outdoor Gear Co."},
                                "order": {"id": "111-0000003-0000003", "status": "Shipped", "ship_by": "2026-11-18",
                                          "ship_date": None, "delivery_window": "2026-11-21 – 2026-11-23"},
                                "message": {"subject_topic": "Trail tent", "intent": "order_status"}, "today": t,
                                "answer": base["answer"]}),
    ]

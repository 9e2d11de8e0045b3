"""The one template environment: Jinja2 in a sandbox, templates per locale under ``templates/``.

A template file has two blocks, ``subject`` and ``body``. Templates may only read the
context they are given (immutable sandbox, strict undefined): a typo fails loudly instead
of sending an empty sentence to a buyer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
FALLBACK_LOCALE = "en"


@lru_cache(maxsize=1)
def environment():
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for Amazon's relay; the linter rejects markup
        trim_blocks=False,
        keep_trailing_newline=False,
    )


def locales_for(name: str) -> list[str]:
    return sorted(p.parent.name for p in TEMPLATES.glob(f"*/{name}.j2"))


def resolve_locale(name: str, preferred: list[str]) -> str | None:
    have = set(locales_for(name))
    for loc in [*preferred, FALLBACK_LOCALE]:
        if loc and loc in have:
            return loc
    return None


def render(name: str, locale: str, context: dict) -> tuple[str, str]:
    """Render (subject, body) of template ``<locale>/<name>.j2``."""
    env = environment()
    tpl = env.get_template(f"{locale}/{name}.j2")
    ctx = tpl.new_context(context)
    subject = "".join(tpl.blocks["subject"](ctx)).strip()
    body = "".join(tpl.blocks["body"](ctx)).strip()
    return subject, body

"""Compliance subcommands for the ``seller-inbox`` CLI (docs/templates.md).

``register(subparsers)`` adds:
- ``lint-message --locale de-DE --type reply|proactive|review_request FILE|-``: lints one text
  (``-`` = stdin); prints ``ok`` (exit 0) or one ``code: explanation (matched text)`` per line
  (exit 1). Bad input: one line on stderr, exit 2.
- ``lint-template PATH...``: renders each template file (or every ``*.j2`` under a directory)
  with every sample context and lints the result with the template's locale and kind; exit 1 on
  any finding or render error. ``--preview NAME --locale ja`` prints a rendered template.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _err(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _lint_message(args) -> int:
    from seller_inbox.compliance import buyer_language, lint

    try:
        buyer_language(args.locale)
    except ValueError as exc:
        return _err(f"--locale: {exc}")
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _err(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}; give a UTF-8 text file or - for stdin")
    findings = lint(args.subject or "", text, locale=args.locale, kind=args.type, channel=args.channel,
                    order_id=args.order_id, attachments=args.attachments)
    if not findings:
        print("ok")
        return 0
    for f in findings:
        print(f)
    return 1


def _template_files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.rglob("*.j2")) if p.is_dir() else [p])
    return out


def _lint_template(args) -> int:
    from seller_inbox import templating
    from seller_inbox.compliance import buyer_language, lint

    if args.preview:
        return _preview(args)
    if not args.paths:
        return _err("lint-template needs PATH... (template files or directories) or --preview NAME --locale LOCALE")
    failed = 0
    for path in _template_files(args.paths):
        name, locale = path.stem, args.locale or path.parent.name
        try:
            buyer_language(locale)
            source = path.read_text(encoding="utf-8")
        except ValueError:
            print(f"{path}: the locale is the folder name (en, de, ...) or --locale; {locale!r} is not served")
            failed += 1
            continue
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
            failed += 1
            continue
        spec = templating.CATALOG.get(name)
        kind = spec.kind if spec else "reply"
        problems = 0
        for label, ctx in templating.sample_contexts(name, locale):
            try:
                subject, body = templating.render_source(source, locale, ctx, str(path))
            except templating.TemplateError as exc:
                print(f"{exc} [sample: {label}]")
                problems += 1
                break
            for f in lint(subject, body, locale=locale, kind=kind, order_id=ctx["order"].get("id")):
                print(f"{path} [sample: {label}] {f}")
                problems += 1
        if not problems:
            print(f"{path}: ok")
        failed += bool(problems)
    return 1 if failed else 0


def _preview(args) -> int:
    from seller_inbox import templating

    locale = args.locale or templating.FALLBACK_LOCALE
    if args.preview not in templating.CATALOG:
        return _err(f"unknown template {args.preview!r}; templates: {', '.join(templating.CATALOG)}")
    if locale not in templating.locales_for(args.preview):
        return _err(f"{args.preview} has no {locale!r} version; locales: {', '.join(templating.locales_for(args.preview))}")
    samples = dict(templating.sample_contexts(args.preview, locale))
    label = args.sample or next(iter(samples))
    if label not in samples:
        return _err(f"unknown sample {label!r}; samples: {', '.join(samples)}")
    try:
        subject, body = templating.render(args.preview, locale, samples[label])
    except templating.TemplateError as exc:
        return _err(str(exc))
    print(f"Subject: {subject}\n\n{body}")
    return 0


def register(sub) -> None:
    from seller_inbox.compliance import CHANNELS, KINDS

    m = sub.add_parser("lint-message", help="check one message against Amazon's communication rules")
    m.add_argument("file", metavar="FILE|-", help="the message body (UTF-8 text; - reads stdin)")
    m.add_argument("--locale", required=True, help="the buyer's locale, e.g. de-DE, ja-JP")
    m.add_argument("--type", choices=KINDS, default="reply", help="what is sent (default: reply)")
    m.add_argument("--channel", choices=CHANNELS, help="default: email for replies, messaging otherwise")
    m.add_argument("--subject", default="", help="the subject line, linted with the body")
    m.add_argument("--order-id", help="the order the message is about (proactive messages must name it)")
    m.add_argument("--attachments", action="store_true", help="the send carries files (mentioning them is fine)")
    m.set_defaults(func=_lint_message)

    t = sub.add_parser("lint-template", help="render templates with sample contexts and lint them; or preview one")
    t.add_argument("paths", nargs="*", metavar="PATH", help="template files or directories (locale = folder name)")
    t.add_argument("--locale", help="locale of the files (default: their folder); with --preview: which version")
    t.add_argument("--preview", metavar="NAME", help="print template NAME rendered with a sample context")
    t.add_argument("--sample", help="which sample context for --preview (default: the first)")
    t.set_defaults(func=_lint_template)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(prog="seller-inbox")
    register(p.add_subparsers(dest="command", required=True))
    a = p.parse_args()
    sys.exit(a.func(a))

"""Dev tooling of seller-inbox: the SP-API simulator, the demo (run command, demo mail, local
SMTP), the classifier's corpus, training and evaluation, UI screenshots.

Nothing under ``seller_inbox`` imports this package (tests/unit/test_layout.py): its commands
reach ``seller-inbox`` through the ``seller_inbox.commands`` entry points in pyproject.toml
(CONTRIBUTING.md, "Runtime and dev tooling").
"""

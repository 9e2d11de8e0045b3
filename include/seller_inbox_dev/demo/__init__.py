"""The demo: ``run`` (``seller-inbox demo`` / ``make run``), ``mail`` (demo relay mail,
``seller-inbox mail demo``) and ``smtp`` (the local SMTP server replies go to)."""

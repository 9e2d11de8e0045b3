"""The domain core: what Amazon's marketplaces, mails, identifiers, labels and clocks look like.

One home per fact, no I/O, standard library only (cheap to import at DAG-parse time):

- ``marketplaces``   marketplace ids, regions, domains, languages, time zones, currencies
- ``languages``      the languages the desk serves
- ``identifiers``    order ids, ASINs, carrier tracking numbers, VAT ids
- ``relay``          the grammar of Amazon's relay mails, notices, bounces and auto-replies
- ``taxonomy``       intents, risk levels and their order
- ``response_clock`` Amazon's 24-hour response clock and its reminders

Everything else (parser, classifier, alerts, compliance linter, KPI SQL parameters, the
simulator's mail generator) imports these; ``tests/unit/test_one_home.py`` fails when a
fact is defined anywhere else. See docs/domain.md.
"""

"""The classifier's dev side: the labelled ``corpus``, ``train`` (writes the shipped model and
spelling vocabulary the runtime ``seller_inbox.classify`` loads) and ``evaluate``."""

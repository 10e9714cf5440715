"""Customer and staff e-mail, driven by events: the users context owns it because it owns the people.

Why here: every notification needs a person's e-mail address and name, and those live in the users context's own
tables. A consumer running in the users role reads them directly, inside its own transaction, instead of asking
another context for an address once per event (a contract call per event, and one that rule 4 forbids inside the
consumer's transaction). Everything else a mail shows arrives with the event: an order event carries the order's
number, lines, totals and currency, and a payment event its amount and reference besides, so no other context is
asked either. The catalog staff a low-stock digest goes
to are users with that role, also here.

- ``consumers``: the event handlers (``ecommerce.events.subscriptions`` names them); they validate the event and
  record what must be sent, in the transaction that marks the event handled.
- ``services``: rendering, the notification rows, sending, the low-stock digest.
- ``models``: ``EmailNotification`` (one row per (event, recipient): the unique key that makes sending idempotent)
  and ``StockLowAlert`` (what the next digest lists).
"""

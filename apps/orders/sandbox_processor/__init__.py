"""The sandbox card processor: a stand-in for a real payment processor, run beside the shop.

It is deliberately *outside* the shop. It keeps its own state in its own tables (intents, refunds, the webhook
events it owes the shop), and the shop reaches it only through ``api`` (what a processor's HTTP API would be) and
``signatures`` (what its SDK would ship to verify webhooks). It never reads or writes the shop's payments: the shop
learns what happened only from the signed webhooks ``delivery`` posts to ``ECOMMERCE_SANDBOX_WEBHOOK_URL``, retried
with backoff until the shop acknowledges them with a 2xx, exactly as a real processor's servers would.
Import-linter holds both directions of that boundary.
"""

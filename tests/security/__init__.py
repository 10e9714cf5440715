"""The security suite: one module per risk of the OWASP API Security Top 10 (2023) that applies to the shop. Every
module walks the table of operations (``endpoints.py``), the URLconf or the OpenAPI document (``inventory.py``), so
an endpoint added tomorrow is attacked too.

- API1 Broken object level authorization: ``test_api1_object_level_authorization.py`` (Bob replays Alice's calls).
- API2 Broken authentication: ``test_api2_broken_authentication.py`` (forged, expired and revoked tokens, refresh
  reuse); sign-in limits also in ``tests/test_sign_in_limits.py``.
- API3 Broken object property level authorization: ``test_api3_property_level_authorization.py`` (mass assignment
  of every undocumented privileged property).
- API4 Unrestricted resource consumption: ``test_api4_resource_consumption.py`` (page size, body size and depth, a
  throttle on every operation).
- API5 Broken function level authorization: ``test_api5_function_level_authorization.py`` (every role on every
  staff operation).
- API6 Unrestricted access to sensitive business flows: ``test_api6_sensitive_business_flows.py`` (every limit of
  account creation, mails and sign-in, guest carts, the open-order cap, a voucher's per-customer limit).
- API7 Server side request forgery: ``test_api7_server_side_request_forgery.py`` (no operation reaches a URL a
  client gave; the processor's webhooks go where the settings say).
- API8 Security misconfiguration: ``test_api8_security_misconfiguration.py`` (hardening headers, problem details
  with no internals, 405s).
- API9 Improper inventory management: ``test_inventory.py`` (table, URLconf and document name the same operations).
- API10 Unsafe consumption of APIs: ``test_api10_unsafe_consumption_of_apis.py`` (the sandbox's and Stripe's
  webhooks verified before they are read, amounts and currencies checked, unreadable events refused).

The OpenAPI document itself is held to the code by Schemathesis in ``tests/test_openapi_fuzz.py``.
"""

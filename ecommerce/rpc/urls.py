"""The route of the signed internal RPC endpoint, on its own.

Only a domain role of a split deployment serves it (``config/urls_service.py`` includes this module). The monolith
and the gateway never do: the monolith calls every contract in-process, and whatever a public port routes can be
reached by anyone who finds it. ``LoopbackTransport`` resolves its calls against this URLconf directly, so the
loopback test path goes through the real endpoint without any public URLconf routing it."""

from django.urls import path

from ecommerce.rpc.endpoint import rpc_endpoint
from ecommerce.rpc.transport import INTERNAL_RPC_PREFIX

urlpatterns = [
    path(f"{INTERNAL_RPC_PREFIX.strip('/')}/<str:service>/<str:method>", rpc_endpoint, name="internal-rpc"),
]

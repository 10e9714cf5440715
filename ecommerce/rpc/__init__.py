"""Contract plumbing: a contract is an abstract ``Service``; ``ServiceDelegator`` hands callers the local
implementation or a generated remote one, depending on the deployment mode."""

from ecommerce.rpc.service import Service, ServiceDelegator, rpc_method

__all__ = ("Service", "ServiceDelegator", "rpc_method")

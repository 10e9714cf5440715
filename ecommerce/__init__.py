"""Shared kernel: transport, contracts and cross-cutting glue. It holds no domain logic and never imports apps/."""

"""Test utilities for what lies outside the project: a broker we can cut off, a real SMTP server, real workers."""

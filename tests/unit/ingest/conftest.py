"""Fixtures for ingest tests (helpers live in tricky_vault.py so test modules can import them)."""

from tricky_vault import settings, vault

__all__ = ["settings", "vault"]

"""Plumbing every Shkala service needs; no domain logic lives here."""

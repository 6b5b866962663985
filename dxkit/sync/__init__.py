"""Sync engine, wire protocol and reference hub (built in the sync issue)."""

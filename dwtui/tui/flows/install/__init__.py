"""Dual-write application (d): the terms, Configure, OK, and the install. Start in flow.py."""

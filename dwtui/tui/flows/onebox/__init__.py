"""The one-box screen (o): application user, flight on AXDB, AOS restart, verification. Start in screen.py."""

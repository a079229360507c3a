"""Reset dual-write connection (R): what it wipes, a typed confirmation, the reset. Start in flow.py."""

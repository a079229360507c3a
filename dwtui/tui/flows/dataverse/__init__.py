"""Add Dataverse (P): language, currency and template, a confirmation, the request. Start in flow.py."""

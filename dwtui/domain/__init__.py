"""Pure rules and data: no I/O, no Textual. Everything here is safe to call from any thread."""

"""The doctor's screen (key D): every prerequisite of dual-write for the environment on the page, live."""

"""Link to Power Platform environment (l) and the dual-write administration link (a, c). Start in flow.py."""

"""One package per flow of the Environment details page. Flows never import each other: they tell
the page what happened with the messages in dwtui.tui.messages (import-linter keeps this)."""

"""The Progress pane and the watching of installs and links (p, w). Start in watch.py."""

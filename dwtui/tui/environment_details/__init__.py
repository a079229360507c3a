"""The LCS Environment details page (the default screen): its panes and the reads behind them.

Start in screen.py.
"""

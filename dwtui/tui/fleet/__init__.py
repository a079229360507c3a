"""The fleet screen (key F): every environment of the LCS projects in one table, filling in as read."""

"""Reports: the team's figures for a period, read from the other domains' records.

Not a `Domain`: a report owns no table, migration, hook or service, and records nothing; it
only reads households, farm and lessons. It is a plain package in a layer of its own above
those domains (pyproject.toml), which no domain imports.
"""

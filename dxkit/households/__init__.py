"""Households: hamlets and team, households and people, visits and follow-ups, indicators,
search, spreadsheets in and out (see domain.py for what it declares to the kernel)."""

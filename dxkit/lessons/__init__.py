"""Digital-skills course packs and progress (built in the lessons issue)."""

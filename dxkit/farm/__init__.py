"""Farm diaries, pesticide compliance, harvest lots and their trace records (issue 4)."""

"""A team's part of its trace URLs: lot codes are unique within a team only.

Two cooperatives of different teams may both be "MD" and both pack lot MD-261120-007 on the
same day, and a device must never be able to publish a lot under another team's code. So the
hub keeps published traces per team, and the URL a label's QR code holds carries the team's
trace key: <trace base>/<team key>/<lot code>, e.g. …/t/K7M2Q9XA/MD-261120-007-0 (a GS1 Digital
Link gets it as the query parameter t=). The key is derived from the hub's team id, so a laptop
knows it from the moment it enrolls, offline, and the hub finds the team by it (the hub also
makes sure no two of its teams share one). docs/deployment.md, "Trace URLs", tells the rest.
"""

from __future__ import annotations

import hashlib

from dxkit.farm.gs1 import LOT_ALPHABET

TEAM_KEY_LENGTH = 8  # Crockford Base32: 40 bits
TEAM_KEY_PARAMETER = "t"  # the query parameter of a GS1 Digital Link that carries the key
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def team_trace_key(team_id: str) -> str:
    """The team's key in trace URLs: 8 characters of the lot-code alphabet (no I, L, O, U)
    from a hash of the hub's team id."""
    digest = hashlib.sha256(f"dxkit trace team {team_id}".encode()).digest()
    value = int.from_bytes(digest[:5], "big")
    return "".join(LOT_ALPHABET[(value >> shift) & 31]
                   for shift in range(5 * (TEAM_KEY_LENGTH - 1), -1, -5))


def normalize_team_key(text: str) -> str | None:
    """A team key as typed or printed (any case, o/i/l for 0/1, dashes), or None when the text
    cannot be one."""
    key = text.strip().upper().replace("-", "").translate(_LOOKALIKES)
    if len(key) != TEAM_KEY_LENGTH or any(char not in LOT_ALPHABET for char in key):
        return None
    return key

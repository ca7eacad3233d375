"""What a message may repeat of a value that names an environment variable.

Configuration keys and options such as `password_env` take the name of the variable that
holds a secret, and people type the secret there instead. A message then repeats the name
only when it cannot be mistaken for a password or token: capitals and digits in at least two
words joined by underscores, each word starting with letters (`LINE1_RO_PASSWORD`,
`ADMIN_PASSWORD`). `Hunter2`, `HUNTER2`, `S3CR3T_K3Y`, `hunter_2` and any single word are not
repeated: such a message says "the variable named here" instead.
"""

from __future__ import annotations

import re

# Letters then digits per word, at least two words: the convention for variables, and not
# what a password looks like.
_SHOWN = re.compile(r"[A-Z]+[0-9]*(?:_[A-Z]+[0-9]*)+")
# What a variable name may be at all (the shell's rule).
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shown_name(value: object) -> bool:
    """True when `value` may be repeated in a message as a variable's name."""
    return isinstance(value, str) and len(value) <= 64 and _SHOWN.fullmatch(value) is not None

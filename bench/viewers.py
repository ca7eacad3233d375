"""The benchmark's viewers, made directly in the stack's database (run by bench/stack.py).

    python -m bench.viewers bench-viewer --sessions 1000   # prints the session keys as JSON
    python -m bench.viewers p1-viewer --password-stdin      # signs in through the login form
    python -m bench.viewers p8-operator --password-stdin --role Operators   # may acknowledge

A viewer with sessions has no usable password: each load client gets a signed-in session of its
own, as each browser would have, without a thousand logins. Not a product command: minting
sessions past the login form has no place on a plant's server.
"""

from __future__ import annotations

import argparse
import json
import sys


def ensure_viewer(username: str, password: str | None = None, role: str = ""):
    """The user `username` in the Viewers role (or `role`), with `password` or no usable
    one."""
    from django.contrib.auth.models import User

    from dashboard import roles

    user, _ = User.objects.get_or_create(username=username)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    user.groups.add(roles.ensure_role(role or roles.VIEWERS))
    return user


def signed_in_sessions(user, count: int) -> list[str]:
    """`count` new database sessions in which `user` is signed in; their keys."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = []
    for _ in range(count):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.viewers", description=__doc__)
    parser.add_argument("username")
    parser.add_argument("--sessions", type=int, default=0, help="print this many session keys")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from stdin (kept out of the process list)")
    parser.add_argument("--role", default="", choices=["", "Viewers", "Operators"],
                        help="the role on every site (default Viewers)")
    args = parser.parse_args(argv)
    import django

    django.setup()
    password = sys.stdin.read() if args.password_stdin else None
    user = ensure_viewer(args.username, password, args.role)
    if args.sessions:
        print(json.dumps(signed_in_sessions(user, args.sessions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

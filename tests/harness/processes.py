"""Free ports, waiting, and one child process with its log: the pieces every harness uses."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (default: this process's environment) where `python -m` finds this checkout."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def wait_until(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; return it, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(interval)


@dataclass
class Proc:
    """A child process in its own process group, its output in `log`."""

    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self, last: int = 6000) -> str:
        """The last `last` characters of the log."""
        try:
            return self.log.read_text(errors="replace")[-last:]
        except OSError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output(last=200 * lines).splitlines()[-lines:])

    def signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left of it."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # Children that outlived their parent (a pool, workers) still sit in the group.
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL the group at once, as a crash or the OOM killer would."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
) -> Proc:
    """Start `argv` in a new session (its own process group), appending its output to `log`."""
    with open(log, "ab") as out:
        popen = subprocess.Popen(
            list(argv), cwd=cwd, env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Proc(name, popen, log)


def wait_for_port(port: int, timeout: float, proc: Proc | None = None) -> None:
    """Until something listens on 127.0.0.1:`port`; fail early when `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def run_python(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    what: str,
    timeout: float = 120,
    stdin: str | None = None,
) -> str:
    """Run `python *args` in the checkout; its stdout, or an error saying `what` failed."""
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=dict(env), input=stdin, capture_output=True,
        text=True, timeout=timeout, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def manage(env: Mapping[str, str], *args: str, timeout: float = 120) -> str:
    """`manage.py *args` with `env`; its stdout."""
    return run_python(["manage.py", *args], env, what=f"manage.py {' '.join(args)}",
                      timeout=timeout)

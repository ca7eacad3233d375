"""Run a few long-lived processes in the foreground, as systemd runs the units (`wdash serve`).

Each process runs in its own session, its output prefixed with its name. On SIGTERM or SIGINT
each gets SIGTERM on its MAIN process only, and what is left of its group after `stop_timeout`
gets SIGKILL: systemd's KillMode=mixed, as in deploy/systemd/. Signalling the whole group at
once (what honcho does) reaches Celery's pool children too: they die in the middle of a poll
and the worker reports WorkerLostError instead of finishing the poll (a warm shutdown). A
process that dies on its own is started again after 1 s, doubling up to 30 s while it keeps
dying within 10 s of its start (systemd's Restart=always).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

QUICK_DEATH = 10.0
FIRST_DELAY = 1.0
MAX_DELAY = 30.0


@dataclass
class Program:
    name: str
    argv: Sequence[str]
    popen: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    def __init__(
        self,
        programs: Mapping[str, Sequence[str]],
        env: Mapping[str, str],
        *,
        stop_timeout: float = 30.0,
        out: IO[str] = sys.stdout,
    ) -> None:
        self.programs = [Program(name, list(argv)) for name, argv in programs.items()]
        self.env = dict(env)
        self.stop_timeout = stop_timeout
        self.out = out
        self.width = max(len(name) for name in programs)
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name:<{self.width}} | {line.rstrip()}\n")
            self.out.flush()

    def run(self) -> int:
        """Start every program, keep them running until SIGTERM or SIGINT, then stop them."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for program in self.programs:
            self._start(program)
        while not self._stopping.is_set():
            self._watch()
            self._stopping.wait(0.2)
        return self._stop_all()

    def _on_signal(self, signum: int, frame: object) -> None:
        if not self._stopping.is_set():
            self.say("wdash", f"{signal.Signals(signum).name} received: stopping")
        self._stopping.set()

    def _start(self, program: Program) -> None:
        program.popen = subprocess.Popen(
            list(program.argv), env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            bufsize=1, start_new_session=True,
        )
        program.started = time.monotonic()
        program.restart_at = None
        self.say("wdash", f"{program.name} started (pid {program.popen.pid})")
        program.reader = threading.Thread(
            target=self._relay, args=(program.name, program.popen.stdout), daemon=True
        )
        program.reader.start()

    def _relay(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            self.say(name, line)

    def _watch(self) -> None:
        now = time.monotonic()
        for program in self.programs:
            if program.restart_at is not None:
                if now >= program.restart_at:
                    self._start(program)
                continue
            assert program.popen is not None
            code = program.popen.poll()
            if code is None:
                continue
            self._reap(program)
            if now - program.started >= QUICK_DEATH:
                program.quick_deaths = 0
            delay = min(MAX_DELAY, FIRST_DELAY * 2**program.quick_deaths)
            program.quick_deaths += 1
            program.restart_at = now + delay
            self.say("wdash", f"{program.name} {how_it_ended(code)}; "
                              f"starting it again in {delay:.0f} s")

    def _reap(self, program: Program) -> None:
        """The rest of its group (children it left behind) and the end of its output."""
        assert program.popen is not None
        _kill_group(program.popen.pid, signal.SIGKILL)
        if program.reader is not None:
            program.reader.join(timeout=5)

    def _stop_all(self) -> int:
        """SIGTERM each main process; SIGKILL what is left after stop_timeout. 0: all clean."""
        running = [p for p in self.programs if p.popen is not None and p.restart_at is None
                   and p.popen.poll() is None]
        for program in running:
            assert program.popen is not None
            with contextlib.suppress(ProcessLookupError):
                program.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        status = 0
        for program in running:
            assert program.popen is not None
            try:
                code = program.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("wdash", f"{program.name} did not stop within "
                                  f"{self.stop_timeout:.0f} s: killing it")
                _kill_group(program.popen.pid, signal.SIGKILL)
                code = program.popen.wait()
                status = 1
            self._reap(program)
            # As systemd counts it: exit status 0, or the SIGTERM it was sent, is a clean stop.
            if code in (0, -signal.SIGTERM):
                self.say("wdash", f"{program.name} stopped")
            else:
                self.say("wdash", f"{program.name} {how_it_ended(code)}")
                status = 1
        return status


def how_it_ended(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _kill_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)

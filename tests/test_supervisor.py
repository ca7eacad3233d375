"""dashboard.supervisor, which runs `wdash serve`'s processes: it stops them as systemd's
KillMode=mixed does and starts again one that dies (tests/test_wdash.py runs the real ones)."""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import pytest

from tests.harness.processes import python_env, spawn, wait_until

SUPERVISE = textwrap.dedent("""
    import sys
    from dashboard.supervisor import Supervisor
    programs = {{"stubborn": [sys.executable, "-c", {program!r}]}}
    sys.exit(Supervisor(programs, {{"PATH": "/usr/bin:/bin"}}, stop_timeout=1).run())
""")


def supervise(tmp_path: Path, program: str):
    return spawn("supervisor", [sys.executable, "-c", SUPERVISE.format(program=program)],
                 log=tmp_path / "out.log", env=python_env())


@pytest.mark.process
def test_a_process_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path):
    program = textwrap.dedent(f"""
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(tmp_path / "child")!r}, "w").write(str(child.pid))
        print("up", flush=True)
        time.sleep(120)
    """)
    proc = supervise(tmp_path, program)
    try:
        wait_until(lambda: "stubborn | up" in proc.output(), timeout=20)
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(timeout=20) == 1
    finally:
        proc.stop()
    output = proc.output()
    assert "wdash    | SIGTERM received: stopping" in output
    assert "wdash    | stubborn did not stop within 1 s: killing it" in output
    assert "wdash    | stubborn was killed by SIGKILL" in output
    # Its child, which got no SIGTERM (only the main process does), went with its group.
    child = int((tmp_path / "child").read_text())
    wait_until(lambda: not Path(f"/proc/{child}").exists(), timeout=10)


@pytest.mark.process
def test_a_process_that_dies_is_started_again_and_then_stopped(tmp_path):
    starts = tmp_path / "starts"
    program = textwrap.dedent(f"""
        import sys, time
        with open({str(starts)!r}, "a") as fh: fh.write("x")
        if open({str(starts)!r}).read() == "x": sys.exit(3)
        print("second start", flush=True)
        time.sleep(120)
    """)
    proc = supervise(tmp_path, program)
    try:
        wait_until(lambda: "stubborn | second start" in proc.output(), timeout=20)
        proc.popen.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.popen.wait(timeout=20) == 0
    finally:
        proc.stop()
    output = proc.output()
    assert "wdash    | stubborn exited with status 3; starting it again in 1 s" in output
    assert output.count("wdash    | stubborn started (pid") == 2
    assert output.rstrip().endswith("wdash    | stubborn stopped")
    assert starts.read_text() == "xx"

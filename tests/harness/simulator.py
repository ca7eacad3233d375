"""The WinCC simulator (`python -m wincc_sim`) as a subprocess on free ports, HTTPS by default.

    sim = start_simulator(folder, tags=500, token_ttl=3)
    sim.set_tag("Tank_Level", 42.0); sim.raise_alarm(...); sim.reset()
    sim.stop()

`sim.env` holds the WINCC_SIM_* variables the simulator was started with; pass them to the
product (its configuration names those variables). Admin helpers talk to the simulator's own
admin listener, which stays up while the main listener is stopped.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.harness.processes import Proc, spawn

START_TIMEOUT = 20.0  # generous: two cores shared with colleagues' test runs


@dataclass(frozen=True)
class ApiCredentials:
    username: str
    password: str
    token: str


@dataclass(frozen=True)
class SimulatorUsers:
    ro: ApiCredentials
    rw: ApiCredentials


@dataclass
class Simulator:
    url: str  # scheme, host and port, no path
    ca_file: str | None  # the pinned certificate (None with http=True)
    admin_url: str
    env: dict[str, str]
    users: SimulatorUsers
    proc: Proc
    _admin: httpx.Client = field(repr=False, default=None)

    def __post_init__(self) -> None:
        self._admin = httpx.Client(
            base_url=self.admin_url, timeout=10,
            headers={"Authorization": f"Bearer {self.env['WINCC_SIM_ADMIN_TOKEN']}"},
        )

    # --- plumbing ---------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Call the admin API; raise AssertionError with the server's words on failure."""
        response = self._admin.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            raise AssertionError(f"simulator admin {method} {path} -> {response.status_code}: "
                                 f"{response.text}")
        return response.json()

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the main listener that trusts the simulator's certificate."""
        verify = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True
        return httpx.Client(base_url=self.url, verify=verify, timeout=5, **kwargs)

    def log(self) -> str:
        return self.proc.log.read_text(errors="replace")

    def stop(self) -> None:
        self._admin.close()
        self.proc.stop(timeout=10)

    # --- admin helpers ----------------------------------------------------------------------

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """latency_ms, error_rate, error_status, drop_rate, malformed_rate, truncated_rate,
        expired_tokens, faces, bad_quality (list of tags), freeze."""
        return self.admin("PUT", "/admin/faults", faults)

    def clear_faults(self) -> dict[str, Any]:
        return self.admin("DELETE", "/admin/faults")

    def set_tag(self, name: str, value: Any, *, hold: bool = True) -> dict[str, Any]:
        """Force a value; held values stay until release_tag or reset."""
        return self.admin("PUT", f"/admin/tags/{name}", {"value": value, "hold": hold})

    def release_tag(self, name: str) -> dict[str, Any]:
        return self.admin("DELETE", f"/admin/tags/{name}")

    def state(self, *names: str, fillers: bool = False) -> dict[str, Any]:
        """Tags (all named ones, fillers on request, or just `names`), alarms, faults."""
        params = {"names": ",".join(names)} if names else {"fillers": "1" if fillers else "0"}
        return self.admin("GET", "/admin/state", **params)

    def value(self, name: str) -> Any:
        return self.state(name)["tags"][name]["value"]

    def alarms(self) -> list[dict[str, Any]]:
        """The visible alarm instances (name, instance_id, state in Unified words, ...)."""
        return self.admin("GET", "/admin/state", tags="none")["alarms"]

    def alarm_definitions(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/admin/alarms")["alarms"]

    def raise_alarm(self, name: str) -> list[dict[str, Any]]:
        return self.admin("POST", f"/admin/alarms/{name}/raise")["instances"]

    def clear_alarm(self, name: str) -> list[dict[str, Any]]:
        return self.admin("POST", f"/admin/alarms/{name}/clear")["instances"]

    def release_alarm(self, name: str) -> list[dict[str, Any]]:
        return self.admin("POST", f"/admin/alarms/{name}/release")["instances"]

    def start_scenario(self, kind: str, **options: Any) -> dict[str, Any]:
        """flood (count, duration, spacing), chatter (period), stuck (tag)."""
        return self.admin("POST", f"/admin/scenarios/{kind}", options)

    def stop_scenario(self, kind: str) -> dict[str, Any]:
        return self.admin("DELETE", f"/admin/scenarios/{kind}")

    def requests_log(self) -> list[dict[str, Any]]:
        """Writes, acknowledgements and resets received: face, user, action, allowed, items."""
        return self.admin("GET", "/admin/requests")["requests"]

    def alarm_history(self) -> list[dict[str, Any]]:
        """Every alarm transition: time, alarm, instance_id, event, previous, state, user."""
        return self.admin("GET", "/admin/alarm-history")["history"]

    def stop_listener(self) -> None:
        self.admin("POST", "/admin/listener/stop")

    def start_listener(self) -> None:
        self.admin("POST", "/admin/listener/start")

    def expire_sessions(self) -> int:
        return self.admin("POST", "/admin/sessions/expire")["expired"]

    def reset(self) -> None:
        """Plant to its seed's start, faults off, listener running, logs emptied."""
        self.admin("POST", "/admin/reset")


def _secret(kind: str) -> str:
    return f"test-{kind}-{secrets.token_hex(6)}-simulator-only"


def new_secrets(ro_user: str = "api_ro", rw_user: str = "api_rw") -> dict[str, str]:
    """The WINCC_SIM_* variables of a simulator's API users, with fresh random secrets."""
    return {
        "WINCC_SIM_RO_USER": ro_user,
        "WINCC_SIM_RO_PASSWORD": _secret("ro-password"),
        "WINCC_SIM_RW_USER": rw_user,
        "WINCC_SIM_RW_PASSWORD": _secret("rw-password"),
        "WINCC_SIM_RO_TOKEN": _secret("ro-token"),
        "WINCC_SIM_RW_TOKEN": _secret("rw-token"),
        "WINCC_SIM_ADMIN_TOKEN": _secret("admin-token"),
    }


def _flags(options: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, list | tuple):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, str(value)]
    return args


def start_simulator(
    tmp_dir: str | os.PathLike[str], *, start_timeout: float = START_TIMEOUT, **options: Any
) -> Simulator:
    """Start `python -m wincc_sim` on free ports and wait until it answers.

    Options are the CLI flags with underscores (`http=True`, `tags=500`, `token_ttl=3`,
    `seed=7`, `latency_ms=200`, `bad_quality=["Tank_Level"]`...). `env` adds or overrides
    WINCC_SIM_* variables; by default fresh random test secrets are used. The certificate, the
    log and the ready file go to `tmp_dir`.
    """
    tmp = Path(tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    env = new_secrets()
    env.update(options.pop("env", {}) or {})
    ready_file = tmp / "wincc-sim-ready.json"
    ready_file.unlink(missing_ok=True)
    # --parent-pid: the simulator ends by itself should this process die without stopping it.
    command = [sys.executable, "-m", "wincc_sim", "--port", "0",
               "--admin-port", "0", "--cert-dir", str(tmp), "--ready-file", str(ready_file),
               "--parent-pid", str(os.getpid()), *_flags(options)]
    proc = spawn("simulator", command, log=tmp / "wincc-sim.log", env={**os.environ, **env})
    deadline = time.monotonic() + start_timeout
    while not ready_file.exists():
        if not proc.alive() or time.monotonic() > deadline:
            proc.stop()
            raise RuntimeError(f"the simulator did not start:\n{proc.output()}")
        time.sleep(0.02)
    ready = json.loads(ready_file.read_text())
    users = SimulatorUsers(
        ro=ApiCredentials(env["WINCC_SIM_RO_USER"], env["WINCC_SIM_RO_PASSWORD"],
                          env["WINCC_SIM_RO_TOKEN"]),
        rw=ApiCredentials(env["WINCC_SIM_RW_USER"], env["WINCC_SIM_RW_PASSWORD"],
                          env["WINCC_SIM_RW_TOKEN"]),
    )
    return Simulator(url=ready["url"], ca_file=ready["ca_file"], admin_url=ready["admin_url"],
                     env=env, users=users, proc=proc)

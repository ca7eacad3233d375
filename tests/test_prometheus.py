"""The Prometheus examples (deploy/prometheus/): they parse, name only figures that
docs/metrics.md lists (tests/dashboard/test_metrics.py holds the list to a real scrape), and,
with promtool, Prometheus itself accepts them and each alert fires when it should and not
before.

`make test` installs Debian's prometheus package (promtool) as root; without promtool those
tests are skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "deploy" / "prometheus"
SCRAPE = FOLDER / "prometheus.yml"
ALERTS = FOLDER / "alerts.yml"
TOKEN_FILE = "/etc/prometheus/wincc-dashboard.token"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (as root, `make test` installs prometheus)")

# What a histogram's or a counter's samples add to its name.
SUFFIX = re.compile(r"_(total|bucket|count|sum)$")


def documented_metrics() -> set[str]:
    """The figures docs/metrics.md lists, by the names a scrape shows."""
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(wdash_\w+)` \|", text, re.M))


def rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_scrape_example_asks_for_metrics_with_the_token_from_a_file():
    config = yaml.safe_load(SCRAPE.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"] == {"type": "Bearer", "credentials_file": TOKEN_FILE}


def test_three_alerts_on_figures_that_exist():
    found = rules()
    assert [rule["alert"] for rule in found] == [
        "WinCCSiteStale", "WinCCWebhooksFailing", "WinCCDashboardNoBeat"]
    documented = {SUFFIX.sub("", name) for name in documented_metrics()}
    for rule in found:
        named = {SUFFIX.sub("", name) for name in re.findall(r"wdash_\w+", rule["expr"])}
        assert named and named <= documented, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.process
@needs_promtool
def test_prometheus_accepts_the_examples(tmp_path):
    token = tmp_path / "wincc-dashboard.token"
    token.write_text("metrics-token-for-tests-only\n")
    text = SCRAPE.read_text(encoding="utf-8")
    assert TOKEN_FILE in text
    (tmp_path / "prometheus.yml").write_text(text.replace(TOKEN_FILE, str(token)))
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 3 rules found" in result.stdout


def expected(alert: str, **labels: str) -> dict:
    """The alert as Prometheus would raise it: its labels, its annotations filled in."""
    rule = next(rule for rule in rules() if rule["alert"] == alert)

    def fill(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)

    return {"exp_labels": {**rule["labels"], **labels},
            "exp_annotations": {key: fill(text).strip()
                                for key, text in rule["annotations"].items()}}


def scenario(alert: str, series: dict[str, str], quiet: list[str],
             firing: dict[str, list[dict]]) -> dict:
    """promtool's unit test: `series` one value a minute; no alert at the `quiet` times,
    the `firing` ones at theirs."""
    checks = [{"eval_time": at, "alertname": alert, "exp_alerts": []} for at in quiet]
    checks += [{"eval_time": at, "alertname": alert, "exp_alerts": alerts}
               for at, alerts in firing.items()]
    return {"interval": "1m",
            "input_series": [{"series": name, "values": values}
                             for name, values in series.items()],
            "alert_rule_test": checks}


@pytest.mark.process
@needs_promtool
def test_each_alert_fires_when_it_should_and_not_before(tmp_path):
    job = 'job="wincc-dashboard", instance="web:443"'
    tests = [
        # The oven stops being current at minute 2; two minutes later it alerts; back at 7.
        scenario("WinCCSiteStale", {
            f'wdash_site_current{{{job}, site="oven"}}': "1 1 0 0 0 0 0 1 1",
            f'wdash_site_current{{{job}, site="line"}}': "1x8",
        }, quiet=["1m", "3m", "8m"], firing={"4m": [expected("WinCCSiteStale", site="oven")]}),
        # Webhooks of "erp" retried from minute 1 on: an alert after ten minutes.
        scenario("WinCCWebhooksFailing", {
            f'wdash_deliveries{{{job}, trigger="erp", kind="webhook", status="retrying"}}':
                "0 1x20",
            f'wdash_deliveries{{{job}, trigger="mes", kind="mqtt", status="retrying"}}': "2x20",
        }, quiet=["5m", "10m"],
            firing={"11m": [expected("WinCCWebhooksFailing", trigger="erp")]}),
        # A dead letter at minute 3, nothing retrying: an alert ten minutes later.
        scenario("WinCCWebhooksFailing", {
            f'wdash_deliveries{{{job}, trigger="erp", kind="webhook", status="dead"}}':
                "0 0 0 1x30",
            f'wdash_deliveries{{{job}, trigger="erp", kind="webhook", status="retrying"}}':
                "0x30",
        }, quiet=["3m", "12m"],
            firing={"14m": [expected("WinCCWebhooksFailing", trigger="erp")]}),
        # The beat stops at minute 2 and is back at 5; from minute 8 Redis cannot be read (no
        # figure): Prometheus keeps the last value 5 minutes, then the alert waits its 2.
        scenario("WinCCDashboardNoBeat", {
            f"wdash_beat_up{{{job}}}": "1 1 0 0 0 1 1 1" + " _" * 10,
        }, quiet=["1m", "3m", "6m", "11m"], firing={
            "4m": [expected("WinCCDashboardNoBeat")],
            "15m": [expected("WinCCDashboardNoBeat")],
        }),
    ]
    document = {"rule_files": [str(ALERTS)], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    result = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout

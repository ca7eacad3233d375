"""The reverse proxy example (deploy/nginx/wincc-dashboard.conf) under a real nginx: it parses,
and the live stream passes through it frame by frame, with the headers the settings expect.

`make test` installs Debian's nginx-light as root; without nginx these tests are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.fixtures.live_server import LIVE_PASSWORD, start_live_server
from tests.fixtures.simulator import write_config
from tests.harness.processes import free_port, spawn, wait_for_port
from tests.harness.web import gunicorn_argv
from wincc_sim.tls import ensure_certificate

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "wincc-dashboard.conf"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None)

needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (as root, `make test` installs nginx-light)")


def site_file(tmp_path: Path, **ports: int) -> Path:
    """The example with this test's certificate, and with its ports when `ports` are given."""
    cert, key = ensure_certificate(tmp_path / "tls")
    text = SITE.read_text(encoding="utf-8")
    replace = {
        "/etc/ssl/certs/dashboard.plant.example.pem": str(cert),
        "/etc/ssl/private/dashboard.plant.example.key": str(key),
    }
    if ports:
        replace.update({
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports['web']};",
            "listen 80;": f"listen 127.0.0.1:{ports['http']};",
            "listen [::]:80;\n": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
            "listen [::]:443 ssl http2;\n": "",
        })
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "wincc-dashboard.conf"
    path.write_text(text, encoding="utf-8")
    return path


def main_file(tmp_path: Path, site: Path, extra: str = "") -> Path:
    """A whole nginx.conf around the site, with every file it writes under tmp_path."""
    for folder in ("body", "proxy"):
        (tmp_path / folder).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    path = tmp_path / "nginx.conf"
    path.write_text(
        f"{user}daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  {extra}\n  include {site};\n}}\n",
        encoding="utf-8",
    )
    return path


# What a plant's nginx.conf may already say for every site: compress text, and (not at all
# uncommon in front of other applications) ignore the upstream's X-Accel-Buffering. The
# example's stream location must keep frames flowing regardless.
PLANT_DEFAULTS = ("gzip on; gzip_min_length 1; gzip_types text/event-stream text/css; "
                  "proxy_ignore_headers X-Accel-Buffering;")


def test_the_example_says_what_the_settings_expect():
    """The forwarded headers are the proxy's own; the web's address is the units'."""
    text = SITE.read_text(encoding="utf-8")
    env = dict(re.findall(r"^([A-Z_]+)=(.*)$", (ROOT / "deploy/systemd/env.example").read_text(),
                          re.M))
    assert env["BEHIND_TLS_PROXY"] == "1"
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert env["TRUSTED_PROXIES"] == "127.0.0.1"
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
    web = (ROOT / "deploy/systemd/wincc-dashboard-web.service").read_text()
    assert re.search(r"--bind 127\.0\.0\.1:8000\b", web)
    assert "server 127.0.0.1:8000;" in text
    assert "proxy_http_version 1.1;" in text and 'proxy_set_header Connection "";' in text


@pytest.mark.process
@needs_nginx
def test_the_example_is_valid_nginx_configuration(tmp_path):
    conf = main_file(tmp_path, site_file(tmp_path))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_the_live_stream_location_turns_buffering_off_with_long_timeouts():
    stream = re.search(r"location /live/stream/ \{(.*?)\}", SITE.read_text(), re.S).group(1)
    assert "proxy_buffering off;" in stream and "gzip off;" in stream
    timeout = re.search(r"proxy_read_timeout (\d+)s;", stream).group(1)
    assert int(timeout) > 3600  # LIVE_STREAM_MAX_SECONDS, the longest a stream lives


@pytest.mark.integration
@needs_nginx
@pytest.mark.timeout(180)
def test_a_live_stream_passes_through_nginx_frame_by_frame(tmp_path, sim, redis_url):
    """Signed in over HTTPS through nginx; the stream's snapshot and then its keepalives
    arrive while it is open, under an nginx.conf that compresses text and ignores the web's
    own X-Accel-Buffering header (PLANT_DEFAULTS): the example's settings alone keep the
    stream unbuffered."""
    ports = {"http": free_port(), "https": free_port()}
    (tmp_path / "web" / "staticfiles").mkdir(parents=True)
    origin = f"https://127.0.0.1:{ports['https']}"
    server = start_live_server(
        tmp_path / "web", redis_url=redis_url, wincc_config=write_config(sim, tmp_path / "w.json"),
        argv=lambda port: gunicorn_argv(port, workers=1),
        env={**sim.env, "DJANGO_SETTINGS_MODULE": "dashboard.settings",
             "DJANGO_SECRET_KEY": "test-only-" + "k" * 40, "WDASH_DEMO": "0",
             "ALLOWED_HOSTS": "127.0.0.1", "CSRF_TRUSTED_ORIGINS": origin,
             "BEHIND_TLS_PROXY": "1", "TRUSTED_PROXIES": "127.0.0.1",
             "LIVE_KEEPALIVE_SECONDS": "1"},
    )
    conf = main_file(tmp_path, site_file(tmp_path, web=server.port, **ports),
                     extra=PLANT_DEFAULTS)
    nginx = spawn("nginx", [NGINX, "-p", str(tmp_path), "-c", str(conf)],
                  log=tmp_path / "nginx.log")
    try:
        wait_for_port(ports["https"], timeout=20, proc=nginx)
        verify = ssl.create_default_context(cafile=str(tmp_path / "tls" / "wincc-sim.pem"))
        with httpx.Client(base_url=origin, verify=verify, timeout=10) as client:
            form = client.get("/accounts/login/")
            assert form.status_code == 200
            # X-Forwarded-Proto reached Django: it knows the page went out over HTTPS.
            assert "max-age=31536000" in form.headers["strict-transport-security"]
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            signed_in = client.post(
                "/accounts/login/",
                data={"username": "viewer", "password": LIVE_PASSWORD,
                      "csrfmiddlewaretoken": token, "next": "/"},
                headers={"Origin": origin, "Referer": f"{origin}/accounts/login/"},
            )
            assert signed_in.status_code == 302, signed_in.text[:500]

            with client.stream("GET", "/live/stream/overview/") as stream:
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
                frames = []
                for chunk in stream.iter_text():
                    frames.append(chunk)
                    if len("".join(frames).split("\n\n")) > 3:  # snapshot, then keepalives
                        break
        text = "".join(frames)
        assert text.startswith("retry: ")
        assert text.count("\n\n") >= 3
    finally:
        nginx.stop()
        server.stop()

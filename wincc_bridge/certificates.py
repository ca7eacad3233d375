"""Naming a certificate in an error: its subject and SHA-256 fingerprint.

A plant engineer compares the fingerprint with the one the WinCC server's administrator
reads off the server, so a refused certificate names the one the server showed and, when
one is pinned, the pinned one. The `cryptography` package reads the subject: the standard
library decodes a certificate only after it was verified, which is just what failed here.
"""

from __future__ import annotations

import hashlib
import re
import ssl

import httpx
from cryptography import x509

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def describe(der: bytes) -> str:
    """`CN=hmi-01 (SHA-256 AB:CD:...)`; the fingerprint alone if the subject is unreadable."""
    fingerprint = ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())
    try:
        subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        subject = ""
    return f"{subject or 'a certificate without a readable subject'} (SHA-256 {fingerprint})"


def shown_by(server: str, timeout: float) -> str:
    """The certificate `server` (an https URL) presents, described; "" if it cannot be had."""
    url = httpx.URL(server)
    if url.scheme != "https" or not url.host:
        return ""
    try:
        pem = ssl.get_server_certificate((url.host, url.port or 443), timeout=timeout)
        return describe(ssl.PEM_cert_to_DER_cert(pem))
    except (OSError, ValueError):
        return ""


def pinned_in(ca_file: str) -> list[str]:
    """Each certificate in a PEM file, described; empty if the file holds none readable."""
    try:
        with open(ca_file, encoding="ascii", errors="replace") as pem:
            text = pem.read()
    except OSError:
        return []
    described = []
    for block in _PEM.findall(text):
        try:
            described.append(describe(ssl.PEM_cert_to_DER_cert(block)))
        except ValueError:
            continue
    return described

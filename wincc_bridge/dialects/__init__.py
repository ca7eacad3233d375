"""One adapter per WinCC web API; each turns its wire format into wincc_bridge.models."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wincc_bridge.client import ConnectionSettings, WinCCClient


def _classic(settings: ConnectionSettings) -> WinCCClient:
    from wincc_bridge.dialects.classic import ClassicClient

    return ClassicClient(settings)


def _unified(settings: ConnectionSettings) -> WinCCClient:
    from wincc_bridge.dialects.unified import UnifiedClient

    return UnifiedClient(settings)


def _rest_v1(settings: ConnectionSettings) -> WinCCClient:
    from wincc_bridge.dialects.rest_v1 import RestV1Client

    return RestV1Client(settings)


DIALECTS: dict[str, Callable[[ConnectionSettings], WinCCClient]] = {
    "classic": _classic,
    "unified": _unified,
    "rest-v1": _rest_v1,
}

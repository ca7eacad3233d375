"""One adapter per WinCC web API; each turns its wire format into wincc_bridge.models."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wincc_bridge.client import WinCCClient


# Imported on first use: a process talks to one or two dialects, not all three.
def _classic() -> type[WinCCClient]:
    from wincc_bridge.dialects.classic import ClassicClient

    return ClassicClient


def _unified() -> type[WinCCClient]:
    from wincc_bridge.dialects.unified import UnifiedClient

    return UnifiedClient


def _rest_v1() -> type[WinCCClient]:
    from wincc_bridge.dialects.rest_v1 import RestV1Client

    return RestV1Client


DIALECTS: dict[str, Callable[[], type[WinCCClient]]] = {
    "classic": _classic,
    "unified": _unified,
    "rest-v1": _rest_v1,
}

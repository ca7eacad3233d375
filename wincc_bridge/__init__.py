"""wincc_bridge: talk to Siemens WinCC servers (Classic REST, Unified GraphQL, REST v1).

A plain client library: it never imports Django, so the CLI and the ingest pipeline
(wincc_ingest) use it alone. The simulator (wincc_sim) never imports it: it is the
protocol oracle the client is tested against.
"""

from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue

__all__ = ["Alarm", "AlarmState", "Quality", "TagValue"]

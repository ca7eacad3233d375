"""wincc_bridge: talk to Siemens WinCC servers (Classic REST, Unified GraphQL, REST v1).

A plain Python library: it never imports Django, so the simulator, the CLI and the
Celery poller can use it alone.
"""

from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue

__all__ = ["Alarm", "AlarmState", "Quality", "TagValue"]

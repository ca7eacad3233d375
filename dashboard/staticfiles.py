"""WhiteNoise as middleware that stays async under ASGI.

whitenoise 6 declares its middleware sync-only. Under ASGI, one sync-only middleware makes
Django run the whole chain through a thread for every request, and for a live stream that
thread waits until the stream is set up: in a reconnect storm, thousands of threads. Looking
a static file up is a dictionary read (WHITENOISE_AUTOREFRESH is off outside debug), so the
async path only goes to a thread to serve a file it found.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings as django_settings
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, settings=django_settings) -> None:
        super().__init__(get_response, settings)
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)

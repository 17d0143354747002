from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Forbid any cache (browser, proxy) from keeping a copy of an admin page.

    Every admin page can show client records; ``no-store`` keeps them out of the
    browser's disk cache and the back button on a shared workstation. Covers the admin's
    redirects and error pages too, which the admin's own ``never_cache`` does not.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            add_never_cache_headers(response)
        return response

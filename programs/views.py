from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_GET

from .availability import public_availability


@require_GET
@cache_page(60)
def availability(request: HttpRequest) -> JsonResponse:
    """Public, no login: whether the clinic takes new clients and how soon (README)."""
    return JsonResponse(public_availability())

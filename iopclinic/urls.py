from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from programs.views import availability

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("availability.json", availability, name="availability"),
]

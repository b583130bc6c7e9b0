"""The interactive documentation (Swagger UI, served from our own static files).

It runs under the site's strict Content-Security-Policy with one allowance of its own:
Swagger UI's stylesheet draws its icons as ``data:`` SVG images. Its page template is ours
(``templates/api/docs.html``) only to drop the inline ``<style>`` the stock one carries.
"""

from csp.constants import SELF
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

docs = csp_update({"img-src": [SELF, "data:"]})(
    SpectacularSwaggerSplitView.as_view(
        template_name="api/docs.html",
        url_name="api:schema",
        authentication_classes=[],
        permission_classes=[AllowAny],
    )
)

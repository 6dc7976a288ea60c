"""The one Jinja setup of the gateway's server-rendered pages: HTML escaped by default, a missing variable an
error rather than an empty string, and each package's templates under its own prefix (`console/…`,
`calendar/…`, `participant/…`, `docs/…`) so their `base.html`s do not collide.

It is the app's template engine (`TEMPLATE_CONFIG`, given to Litestar in gateway/app.py), and a page is a `Page`
answered as Litestar's `Template` response, which that engine renders as the response is sent: the one way a page
of the console, the public calendar, the participant or the events' documentation is rendered."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Response, Template
from litestar.template.config import TemplateConfig

# Prefix → the `templates` folder it serves. Folders, not `PackageLoader`s: those import their package, whose
# modules import this one.
HERE = Path(__file__).parent
PACKAGES = {
    "console": HERE / "console" / "templates",
    "calendar": HERE / "calendar" / "templates",
    "participant": HERE / "participant_templates",
    "docs": HERE / "docs_templates",  # the events' documentation page (/asyncapi)
}


class PrefixedNames(jinja2.PrefixLoader):
    """A `PrefixLoader` whose templates keep their prefixed name (`console/error.html`; Jinja's own names them
    `error.html`), which `PackageTemplates.join_path` needs to know the package of a template."""

    def load(
        self, environment: jinja2.Environment, name: str, globals: MutableMapping[str, Any] | None = None
    ) -> jinja2.Template:
        return jinja2.BaseLoader.load(self, environment, name, globals)


class PackageTemplates(jinja2.Environment):
    """A template's `extends`/`include`/`import` of a bare name (`"base.html"`) means its own package's, so the
    templates keep their short names and a console page can never pull in the calendar's layout by accident."""

    def join_path(self, template: str, parent: str) -> str:
        if template.partition("/")[0] in PACKAGES:
            return template
        return f"{parent.partition('/')[0]}/{template}"


TEMPLATES = PackageTemplates(
    loader=PrefixedNames({prefix: jinja2.FileSystemLoader(folder) for prefix, folder in PACKAGES.items()}),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# A template compiles once per process: it stays in the environment's own cache (Jinja's `cache_size`, 400).
TEMPLATE_CONFIG = TemplateConfig(instance=JinjaTemplateEngine.from_environment(TEMPLATES))


class Page(NamedTuple):
    """A page to show: its template's prefixed name (`console/…`, `calendar/…`, `participant/…`, `docs/…`) and what it
    shows."""

    template: str
    context: dict[str, Any]

    def response(
        self, status: int = 200, headers: Mapping[str, str] | None = None, cookies: Sequence[Cookie] | None = None
    ) -> Response[Any]:
        # `Template` is a `Response[bytes]` with no body until it is sent; `Response[Any]` so that the handlers that
        # answer a page or a redirect keep one return type.
        return Template(
            template_name=self.template,
            context=self.context,
            status_code=status,
            headers=dict(headers or {}),
            cookies=cookies,
            media_type=MediaType.HTML,
        )

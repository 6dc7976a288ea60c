"""The one Jinja setup of the gateway's server-rendered pages: HTML escaped by default, a missing variable an
error rather than an empty string, and each package's templates under its own prefix (`console/…`,
`calendar/…`, `participant/…`) so their `base.html`s do not collide."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jinja2

# Prefix → the `templates` folder it serves. Folders, not `PackageLoader`s: those import their package, whose
# modules import this one.
HERE = Path(__file__).parent
PACKAGES = {
    "console": HERE / "console" / "templates",
    "calendar": HERE / "calendar" / "templates",
    "participant": HERE / "participant_templates",
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

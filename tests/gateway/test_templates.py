"""The gateway's one Jinja setup: every package's templates load through it, a bare name in `extends`/`import`
stays inside its own package (the console and the calendar each have a `base.html`), it escapes, and it is the
app's template engine, through which every page is rendered."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from litestar.response import Template

import gateway
from gateway.templates import PACKAGES, TEMPLATE_CONFIG, TEMPLATES, Page


def test_every_template_of_both_packages_compiles_under_its_prefix() -> None:
    names = TEMPLATES.list_templates()
    assert {name.partition("/")[0] for name in names} == set(PACKAGES)
    for name in names:
        # a syntax error raises here; the prefixed name is what a bare `extends "base.html"` is resolved against
        assert TEMPLATES.get_template(name).name == name


def test_a_bare_name_means_the_parents_own_package() -> None:
    assert TEMPLATES.join_path("base.html", "calendar/session.html") == "calendar/base.html"
    assert TEMPLATES.join_path("base.html", "console/session.html") == "console/base.html"
    assert TEMPLATES.join_path("console/_macros.html", "calendar/session.html") == "console/_macros.html"
    calendar_base = TEMPLATES.get_template("calendar/base.html")
    console_base = TEMPLATES.get_template("console/base.html")
    assert calendar_base.filename != console_base.filename


def test_a_page_loaded_through_the_prefix_extends_its_own_packages_layout() -> None:
    pages = {"console": "session.html", "calendar": "session.html", "participant": "page.html", "docs": "asyncapi.html"}
    assert set(pages) == set(PACKAGES)
    for package, page_name in pages.items():
        page = TEMPLATES.get_template(f"{package}/{page_name}")  # each extends its package's base.html
        assert TEMPLATES.join_path("base.html", page.name or "") == f"{package}/base.html"


def test_it_escapes_html_and_refuses_a_missing_variable() -> None:
    template = TEMPLATES.from_string("<p>{{ text }}</p>")
    assert template.render(text="<script>") == "<p>&lt;script&gt;</p>"
    with pytest.raises(jinja2.UndefinedError):
        template.render()


def test_an_unknown_prefix_is_not_found() -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        TEMPLATES.get_template("elsewhere/base.html")


def test_the_apps_template_engine_is_this_environment_and_a_page_is_a_template_response() -> None:
    assert TEMPLATE_CONFIG.engine_instance.engine is TEMPLATES  # compiled once, cached in it
    response = Page("calendar/message.html", {"lang": "nl"}).response(404, {"X-Robots-Tag": "noindex"})
    assert isinstance(response, Template) and response.template_name == "calendar/message.html"
    assert (response.status_code, response.headers["X-Robots-Tag"]) == (404, "noindex")


def test_no_page_renders_past_the_apps_engine() -> None:
    """One way to render a page: a `Page` answered as Litestar's `Template` response; nothing else reaches for
    the environment (a module rendering on its own would skip the app's engine)."""
    root = Path(gateway.__file__).parent
    reaching = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "templates.py" and ("TEMPLATES" in path.read_text() or "jinja2" in path.read_text())
    ]
    assert reaching == []

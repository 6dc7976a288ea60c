"""The gateway's one Jinja setup: both packages' templates load through it, a bare name in `extends`/`import`
stays inside its own package (the console and the calendar each have a `base.html`), and it escapes."""

from __future__ import annotations

import jinja2
import pytest

from gateway.templates import PACKAGES, TEMPLATES


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
    pages = {"console": "session.html", "calendar": "session.html", "participant": "page.html"}
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

"""Every relative link in the README and the docs resolves: the file exists in the repository,
and an `#anchor` names a heading of the target (GitHub's anchors, which the docs site uses too).
The README stays a front door: at most 200 lines, no link out of the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").rglob("*.md")]
)
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.S | re.M)
CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$", re.M)


def prose(markdown: str) -> str:
    """The Markdown without code blocks and code spans, where links are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (pymdownx.slugs.slugify(case="lower") in mkdocs.yml)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text, not its target
    text = re.sub(r"<[^>]*>", "", text.replace("`", "")).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    for match in HEADING.finditer(FENCE.sub("", markdown)):
        base = slug(match["text"])
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    targets = [m["target"] for m in LINK.finditer(prose(page.read_text(encoding="utf-8")))]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]


def problem(page: Path, target: str) -> str | None:
    """Why `target` (a link in `page`) does not resolve, or None."""
    path_part, _, anchor = target.partition("#")
    path = (page.parent / path_part).resolve() if path_part else page
    if ROOT not in path.parents and path != ROOT:
        return "leaves the repository"
    if not path.exists():
        return "no such file"
    if anchor and path.suffix == ".md" and anchor not in anchors(path.read_text(encoding="utf-8")):
        return f"{path.name} has no heading #{anchor}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = {t: why for t in relative_links(page) if (why := problem(page, t))}
    assert broken == {}


def test_the_pages_have_links_to_check() -> None:
    assert len(PAGES) >= 10
    assert sum(len(relative_links(page)) for page in PAGES) >= 50


def test_a_broken_link_and_a_broken_anchor_are_noticed() -> None:
    readme = ROOT / "README.md"
    assert problem(readme, "docs/no-such-page.md") == "no such file"
    assert problem(readme, "docs/reference.md#no-such-heading") is not None
    assert problem(readme, "../outside.md") == "leaves the repository"
    assert problem(readme, "docs/reference.md#route-models") is None


def test_slugs_are_githubs() -> None:
    assert slug("With `--each`: typed columns") == "with---each-typed-columns"
    assert slug("`%route usage`") == "route-usage"
    assert slug("Where to go next") == "where-to-go-next"


def test_the_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "docs/images/answer-jupyterlab.png" in readme
    assert (ROOT / "docs" / "images" / "answer-jupyterlab.png").stat().st_size < 200_000

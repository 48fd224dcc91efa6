"""MkDocs hook: a relative link to a file the site does not hold becomes a repository link.

The pages are written to read well on the code host, where `../notebooks/07-batch.ipynb` or
`../benchmarks/README.md` is a working relative link. The site only holds docs/ (less its
Python files), so links to anything else are pointed at the repository
(`repo_url`/blob/HEAD/…). A target that does not exist in the checkout is logged as a warning,
which `mkdocs build --strict` turns into a failed build.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.repo_links")

#: `](target)` or `](target "title")` of an inline Markdown link or image.
LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?P<rest>(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def repo_target(target: str, page_dir: Path, docs_dir: Path, in_site: set[Path]) -> Path | None:
    """The checkout path of a relative link to a file the site does not hold, else None."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("/"):
        return None
    resolved = (page_dir / target).resolve()
    if resolved in in_site or resolved == docs_dir:
        return None
    inside = docs_dir in resolved.parents
    if inside and not resolved.exists():
        return None  # a missing page: MkDocs' own check reports it
    return resolved


def rewrite(
    markdown: str, page_path: Path, docs_dir: Path, repo_url: str, in_site: set[Path]
) -> str:
    """Links to files outside the site point at the repository; links in code are left alone."""
    root = docs_dir.parent

    def link(match: re.Match[str]) -> str:
        target = repo_target(match["target"], page_path.parent, docs_dir, in_site)
        if target is None:
            return match.group(0)
        if not target.exists() or root not in target.parents:
            log.warning("%s links to %s, which is not in the repository", page_path.name, target)
            return match.group(0)
        kind = "tree" if target.is_dir() else "blob"
        where = target.relative_to(root).as_posix()
        return f"]({repo_url.rstrip('/')}/{kind}/HEAD/{where}{match['rest']})"

    parts = []
    last = 0
    for fence in FENCE.finditer(markdown):
        parts.append(LINK.sub(link, markdown[last : fence.start()]))
        parts.append(fence.group(0))
        last = fence.end()
    parts.append(LINK.sub(link, markdown[last:]))
    return "".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    page_path = Path(page.file.abs_src_path).resolve()
    in_site = {
        Path(file.abs_src_path).resolve()
        for file in files
        if file.abs_src_path and not file.inclusion.is_excluded()
    }
    return rewrite(markdown, page_path, docs_dir, config["repo_url"], in_site)

"""Every citation in the repository can be followed from the repository.

Why: code and docs used to cite notes that live outside the repository (a design file and
reference notes beside the checkout, by path or by section number). A reader of the collection
cannot open those. The upstream facts the code relies on now live in ``docs/upstream/`` with the
upstream file, function or PR for each; this test keeps it so:

- no tracked file cites the outside notes (by path, by ``§`` section number, or ``/work/shared``);
- a ``../shared/`` path must resolve inside the repository (molecule's shared playbooks do), except
  that tests may read ``../shared/data`` at runtime;
- every ``docs/upstream/<page>.md#<anchor>`` cited anywhere names a page that exists and a heading
  on it, and no page has two headings with the same anchor.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "docs" / "upstream"
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()

_SKIP_DIRS = {".git", ".venv", "build", "node_modules", "__pycache__", ".pytest_cache", ".ansible",
              "output"}

FORBIDDEN = [
    (re.compile(r"reference/[A-Za-z0-9_-]+\.md"), "cites a reference note outside the repository"),
    (re.compile(r"\bDESIGN(?:\.md)?\s*§|\bDESIGN\.md\b"), "cites the design file outside the repository"),
    (re.compile(r"/work/shared"), "names a path outside the repository"),
    (re.compile(r"\breference\s*§"), "cites a reference note by section number"),
]
# A section sign with a number: the outside notes were cited as "istiod.md §2" or bare "§2".
# RFC sections ("RFC 5280 §4.2") are a different thing and allowed.
SECTION = re.compile(r"§\s*\d")
RFC_BEFORE = re.compile(r"RFC\s*\d+\s*$")
SHARED = re.compile(r"(?:\.\./)+shared/[A-Za-z0-9_./-]*")
ANCHOR_REF = re.compile(r"(?<![\w.-])(?:\.\./)*(?:docs/)?upstream/([\w.-]+\.md)(?:#([\w-]+))?")
LOCAL_LINK = re.compile(r"\]\(([\w.-]+\.md)(?:#([\w-]+))?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def slug(heading):
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^a-z0-9 _-]", "", text)
    return text.replace(" ", "-")


def tracked_files():
    """Paths (relative, POSIX) of the repository's files: git's list, or a walk without git."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for base, dirs, files in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
            names += [Path(base, f).relative_to(ROOT).as_posix() for f in files]
    return sorted(n for n in names if (ROOT / n).is_file())


def read_text(rel):
    """The file's text, or None for binary files."""
    data = (ROOT / rel).read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def violations(rel, text):
    """(line number, reason, excerpt) for every citation in ``text`` a reader cannot follow."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, reason in FORBIDDEN:
            for match in pattern.finditer(line):
                found.append((number, reason, match.group(0)))
        for match in SECTION.finditer(line):
            if not RFC_BEFORE.search(line[:match.start()]):
                found.append((number, "cites a section number of a note outside the repository",
                              match.group(0)))
        for match in SHARED.finditer(line):
            if not _shared_allowed(rel, match.group(0)):
                found.append((number, "names a ../shared path outside the repository", match.group(0)))
    return found


def _shared_allowed(rel, path):
    """A ../shared path is fine if it names an existing file of the repository (relative to the
    citing file, as molecule's ``import_playbook: ../shared/x.yml``), or is a test reading ../shared/data."""
    target = (ROOT / rel).parent.joinpath(path).resolve()
    if (ROOT in target.parents) and target.exists():
        return True
    return rel.startswith("tests/") and re.match(r"(?:\.\./)+shared/data(?:/|$)", path) is not None


def page_anchors():
    """{page file name: [anchors of its headings]} for docs/upstream."""
    return {p.name: [slug(h) for h in HEADING.findall(p.read_text(encoding="utf-8"))]
            for p in sorted(UPSTREAM.glob("*.md"))}


def anchor_refs(rel, text):
    """(line number, page, anchor or None) for every docs/upstream citation in ``text``."""
    refs = []
    in_upstream = rel.startswith("docs/upstream/")
    for number, line in enumerate(text.splitlines(), 1):
        for match in ANCHOR_REF.finditer(line):
            refs.append((number, match.group(1), match.group(2)))
        if in_upstream:
            for match in LOCAL_LINK.finditer(line):
                refs.append((number, match.group(1), match.group(2)))
    return refs


def _texts():
    for rel in tracked_files():
        if rel == SELF:
            continue
        text = read_text(rel)
        if text is not None:
            yield rel, text


def test_no_citation_of_files_outside_the_repository():
    problems = []
    for rel, text in _texts():
        problems += ["%s:%d: %s (%r)" % (rel, n, reason, excerpt) for n, reason, excerpt in violations(rel, text)]
    assert not problems, ("cite docs/upstream/<page>.md#<anchor> or the upstream file instead:\n"
                          + "\n".join(problems))


def test_every_cited_upstream_anchor_exists():
    anchors = page_anchors()
    assert anchors, "docs/upstream/ has no pages"
    problems = []
    for rel, text in _texts():
        for number, page, anchor in anchor_refs(rel, text):
            if page not in anchors:
                problems.append("%s:%d: docs/upstream/%s does not exist" % (rel, number, page))
            elif anchor and anchor not in anchors[page]:
                problems.append("%s:%d: docs/upstream/%s has no heading #%s" % (rel, number, page, anchor))
    assert not problems, "\n".join(problems)


def test_upstream_anchors_are_unique_per_page():
    for page, anchors in page_anchors().items():
        duplicates = sorted({a for a in anchors if anchors.count(a) > 1})
        assert not duplicates, "docs/upstream/%s: headings share anchors %s" % (page, duplicates)


@pytest.mark.parametrize("line, flagged", [
    ("see reference/istiod.md for this", True),
    ("as DESIGN §2 says", True),
    ("fixed by DESIGN.md", True),
    ("root-cert.pem (istiod.md §2)", True),
    ("cat /work/shared/data/x", True),
    ("the path ../shared/reference/kube-api.md", True),
    ("RFC 5280 §4.2.1.9 says pathLen", False),
    ("docs/upstream/istiod.md#root-comparison", False),
    ("a design decision, see docs/architecture.md", False),
])
def test_detector_flags_outside_citations_and_nothing_else(line, flagged):
    assert bool(violations("plugins/x.py", line)) is flagged


def test_detector_allows_test_data_reads_and_in_repository_shared_paths():
    assert violations("tests/integration/conftest.py", 'ROOT / "../shared/data"') == []
    assert violations("plugins/x.py", "../shared/data/file") != []
    assert violations("tests/unit/x.py", "../shared/reference/istiod.md") != []
    # extensions/molecule/shared/ is a directory of the repository
    assert violations("extensions/molecule/istio/prepare.yml",
                      "import_playbook: ../shared/cert_manager.yml") == []


def test_slug_matches_github_anchors():
    assert slug("Hot-reload versions") == "hot-reload-versions"
    assert slug("`cacerts` files") == "cacerts-files"
    assert slug("Reload vs. startup checks") == "reload-vs-startup-checks"

"""The execution environment definition builds an image with what the collection needs.

``ansible-builder create`` (no container engine) turns meta/execution-environment.yml into a build
context; what a user would see break is an image without our Python requirements or without
kubernetes.core, an image whose galaxy stage cannot find the collection tarball, or an image where
ansible-builder's introspection of the installed collection fails or drops our requirements. The
requirement ranges have one source, meta/ee-requirements.txt; the modules' documented minimums and the
pins in requirements-dev.txt must agree with it.
"""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
EE_FILE = os.path.join(REPO, "meta", "execution-environment.yml")
EE_REQUIREMENTS = os.path.join(REPO, "meta", "ee-requirements.txt")


def _tool(name):
    path = os.path.join(BIN, name)
    return path if os.access(path, os.X_OK) else shutil.which(name) or pytest.fail(
        "%s not found: it is in requirements-dev.txt (make venv)" % name)


def _run(*cmd, **kwargs):
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(cmd), proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.stdout


def _requirements(path):
    """Requirement objects of a pip file, following ``-r`` includes like pip and ansible-builder do."""
    out = []
    with open(path) as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("-r"):
                out.extend(_requirements(os.path.join(os.path.dirname(path), line[2:].strip())))
            else:
                out.append(Requirement(line))
    return out


def _by_name(reqs):
    return dict((r.name.lower(), r) for r in reqs)


def _galaxy():
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def collection_tarball(tmp_path_factory):
    """The collection artifact as `make build` makes it (into a temp dir, not the work tree)."""
    out = tmp_path_factory.mktemp("artifact")
    _run(_tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out), REPO)
    (tarball,) = list(out.glob("*.tar.gz"))
    return tarball


@pytest.fixture(scope="module")
def build_context(tmp_path_factory, collection_tarball):
    """``ansible-builder create`` of the definition, laid out as in the repository (meta/ + build/)."""
    root = tmp_path_factory.mktemp("ee")
    (root / "meta").mkdir()
    shutil.copy(EE_FILE, str(root / "meta"))
    shutil.copy(EE_REQUIREMENTS, str(root / "meta"))
    (root / "build").mkdir()
    shutil.copy(str(collection_tarball), str(root / "build"))
    context = root / "context"
    _run(_tool("ansible-builder"), "create", "-f", str(root / "meta" / "execution-environment.yml"),
         "--context", str(context), "--output-filename", "Containerfile")
    return context


def test_containerfile_installs_our_python_requirements(build_context):
    containerfile = (build_context / "Containerfile").read_text()
    # The builder stage copies the user requirements and feeds them to introspect, whose output is installed.
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "--user-pip=requirements.txt" in containerfile
    assert _by_name(_requirements(str(build_context / "_build" / "requirements.txt"))) == \
        _by_name(_requirements(EE_REQUIREMENTS))
    assert str(_by_name(_requirements(EE_REQUIREMENTS))["cryptography"].specifier) == ">=42.0.0"


def test_containerfile_pins_the_tested_ansible_core(build_context):
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', (build_context / "Containerfile").read_text(), re.M)
    assert refs, "no ANSIBLE_INSTALL_REFS in the Containerfile"
    pins = _by_name(_requirements(os.path.join(REPO, "requirements-dev.txt")))
    image = _by_name(Requirement(r) for r in refs.group(1).split())
    assert image["ansible-core"].specifier == pins["ansible-core"].specifier
    # ansible-runner too: the sliced rotation test runs slices with the version the image has.
    assert image["ansible-runner"].specifier == pins["ansible-runner"].specifier


def test_galaxy_stage_installs_kubernetes_core_and_the_collection(build_context):
    galaxy = _galaxy()
    with open(str(build_context / "_build" / "requirements.yml")) as handle:
        collections = yaml.safe_load(handle)["collections"]
    named = dict((c["name"], c) for c in collections)
    for name, version in galaxy["dependencies"].items():
        assert name in named, "galaxy.yml dependency %s is not in the image" % name
        assert named[name].get("version") == version, "%s: image %r, galaxy.yml %r" % (
            name, named[name].get("version"), version)
    assert "kubernetes.core" in named
    ours = "collections/%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert named.get(ours, {}).get("type") == "file", "the image does not install %s (galaxy.yml version?)" % ours
    # The galaxy stage runs in /build, a copy of _build: the tarball must be there.
    assert (build_context / "_build" / ours).is_file()


def test_introspection_of_the_installed_collection_finds_our_requirements(tmp_path, collection_tarball):
    """What the image's builder stage runs over the installed collection, on the real artifact."""
    _run(_tool("ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", str(tmp_path),
         str(collection_tarball), env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path)))
    installed = tmp_path / "ansible_collections" / "meshpki" / "istio_ca"
    assert not (installed / "meta" / "execution-environment.yml").exists(), \
        "the image definition is shipped: introspect would resolve its paths against the collection root"
    data = yaml.safe_load(_run(_tool("ansible-builder"), "introspect", "--sanitize", str(tmp_path)))
    found = _by_name(Requirement(line.split("#", 1)[0]) for line in data["python"])
    # ansible-builder drops PyYAML when sanitizing (ansible-core brings it: introspect.EXCLUDE_REQUIREMENTS).
    expected = dict((k, v) for k, v in _by_name(_requirements(EE_REQUIREMENTS)).items() if k != "pyyaml")
    assert found == expected


def _documented_requirements(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value).get("requirements") or []
    return []


def test_modules_documented_minimums_match_ee_requirements():
    ranges = _by_name(_requirements(EE_REQUIREMENTS))
    checked = 0
    modules = os.path.join(REPO, "plugins", "modules")
    for name in sorted(os.listdir(modules)):
        if not name.endswith(".py"):
            continue
        for text in _documented_requirements(os.path.join(modules, name)):
            match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*(>=\s*[0-9][0-9.]*)", text)
            if not match:
                continue
            name_doc, documented = match.group(1).lower(), Version(match.group(2).lstrip(">= "))
            assert name_doc in ranges, "%s documents %s, not in meta/ee-requirements.txt" % (name, text)
            floors = [Version(s.version) for s in ranges[name_doc].specifier if s.operator == ">="]
            # Version("42.0") == Version("42.0.0"): packaging compares releases padded with zeros.
            assert floors == [documented], "%s documents %s; meta/ee-requirements.txt says %s" % (
                name, text, ranges[name_doc])
            checked += 1
    assert checked, "no module documents a versioned requirement"


def test_tested_pins_are_inside_the_supported_ranges():
    ranges = _by_name(_requirements(EE_REQUIREMENTS))
    pins = _by_name(_requirements(os.path.join(REPO, "requirements-dev.txt")))
    for name, rng in ranges.items():
        assert name in pins, "requirements-dev.txt does not pin %s" % name
        (pin,) = list(pins[name].specifier)
        assert pin.operator == "==" and rng.specifier.contains(pin.version), "%s: %s outside %s" % (name, pin, rng)

"""Let `ansible-test sanity` bootstrap pip offline.

ansible-test downloads a get-pip script into ~/.ansible/test/cache before it builds
each sanity venv; offline that download fails (docs/upstream/ansible.md#ansible-test-get-pip). A script of
the expected name that bootstraps pip with the stdlib's ensurepip and then installs
the requested packages from the package index does the same job.
"""

import os
import pathlib
import re

import ansible_test

SHIM = '''"""Offline stand-in for get-pip.py, written by scripts/install_get_pip_shim.py."""
import subprocess
import sys

# get-pip.py options that pip install does not know.
GET_PIP_ONLY = ("--disable-pip-version-check", "--quiet", "--no-setuptools", "--no-wheel")
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True,
               stdout=subprocess.DEVNULL)
if args:
    subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"] + args,
                   check=True)
'''


def pip_versions():
    """The pip versions this ansible-test release bootstraps (read from its source)."""
    source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    return sorted(set(re.findall(r"pip='([\d.]+)'", source.read_text())))


def main():
    cache = pathlib.Path(os.path.expanduser("~/.ansible/test/cache"))
    cache.mkdir(parents=True, exist_ok=True)
    for version in pip_versions():
        target = cache / ("get_pip_%s.py" % version.replace(".", "_"))
        if not target.exists() or target.read_text() != SHIM:
            target.write_text(SHIM)
            print("installed offline pip bootstrap shim: %s" % target)


if __name__ == "__main__":
    main()

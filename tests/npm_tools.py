"""The npm tools that judge keyward in its tests (`tests/npm/package.json`): graphql-http's
GraphQL-over-HTTP audit and relay-compiler.

They are installed once, with `npm ci` from the committed lock file, into a cache outside the
repository (`KEYWARD_NPM_CACHE`, by default `~/.cache/keyward-npm`), one directory per lock file,
so the suite stays fast and a changed lock file installs afresh. `./run test` installs them before
the suite (`python -m tests.npm_tools`); a test that needs them skips, saying why, only when npm
itself is missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent / "npm"
_FILES = ("package.json", "package-lock.json")
INSTALL_TIMEOUT_SECONDS = 300


def cache_root() -> Path:
    default = Path.home() / ".cache" / "keyward-npm"
    return Path(os.environ.get("KEYWARD_NPM_CACHE", default))


def tools_dir() -> Path:
    digest = hashlib.sha256(b"".join((PACKAGE / name).read_bytes() for name in _FILES))
    return cache_root() / digest.hexdigest()[:16]


def npm_available() -> bool:
    return shutil.which("npm") is not None and shutil.which("node") is not None


def install() -> Path:
    """The directory whose `node_modules` holds the tools, installed if it is not yet."""
    target = tools_dir()
    stamp = target / ".installed"
    if stamp.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pytest runs at once install only once
        if not stamp.exists():
            for name in _FILES:
                shutil.copyfile(PACKAGE / name, target / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=target,
                check=True,
                timeout=INSTALL_TIMEOUT_SECONDS,
            )
            stamp.touch()
    return target


def tools_or_skip() -> Path:
    if not npm_available():
        pytest.skip("npm (and node) are not installed here: apt-get install npm")
    return install()


if __name__ == "__main__":
    if not npm_available():
        print("npm tools: SKIPPED (npm is not installed; the tests that need it will skip)")
        sys.exit(0)
    print(f"npm tools: {install()}")

"""Vendor the files strawberry's GraphiQL page loads from unpkg.com, from the npm registry.

GraphiQL must work on a network without internet access, so keyward serves these files itself
under /static/vendor/<package>@<version>/<path>, the same paths the page names on unpkg.com.
Run this after upgrading strawberry-graphql (needs `npm`): it reads the page strawberry ships,
`npm pack`s each package at the pinned version, copies the named files and the licence, checks
every file against the page's `integrity` hash, and rewrites static/vendor/VERSIONS.md.

    python static/update_vendor.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

import strawberry

UNPKG = re.compile(
    r'(?:src|href)="https://unpkg\.com/(?P<spec>(?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/(?P<path>[^"]+)"'
    r'\s+integrity="(?P<integrity>sha384-[A-Za-z0-9+/=]+)"'
)
VENDOR = Path(__file__).resolve().parent / "vendor"


def page() -> str:
    return (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text()


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def unpack(spec: str, into: Path) -> Path:
    name = (
        subprocess.run(
            ["npm", "pack", spec, "--silent"], cwd=into, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    target = into / name.removesuffix(".tgz")
    with tarfile.open(into / name) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def repository(package: Path) -> str:
    meta = json.loads((package / "package.json").read_text())
    repo = meta.get("repository", "")
    url = repo.get("url", "") if isinstance(repo, dict) else str(repo)
    return re.sub(r"^(git\+)?(https?|git)://", "", url).removesuffix(".git")


def licence_text(package: Path, packages: dict[str, Path]) -> str:
    """The package's licence file; @graphiql/plugin-explorer ships none, and the licence of
    its monorepo (the graphiql package's, same repository) applies."""
    for candidate in [package, *packages.values()]:
        if candidate is package or repository(candidate) == repository(package):
            files = sorted(candidate.glob("LICEN[CS]E*"))
            if files:
                return files[0].read_text()
    raise SystemExit(f"no licence file for {package}")


def main() -> int:
    found = [m.groupdict() for m in UNPKG.finditer(page())]
    if not found:
        print("no unpkg.com files in strawberry's GraphiQL page", file=sys.stderr)
        return 1
    shutil.rmtree(VENDOR, ignore_errors=True)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        specs = sorted({f["spec"] for f in found})
        packages = {spec: unpack(spec, Path(scratch)) for spec in specs}
        for entry in sorted(found, key=lambda f: (f["spec"], f["path"])):
            spec, path = entry["spec"], entry["path"]
            package = packages[spec]
            data = (package / path).read_bytes()
            if sri(data) != entry["integrity"]:
                print(f"{spec}/{path}: integrity differs from the page's", file=sys.stderr)
                return 1
            target = VENDOR / spec / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            (VENDOR / spec / "LICENSE").write_text(licence_text(package, packages))
            licence = json.loads((package / "package.json").read_text()).get("license")
            rows.append(f"| `{spec}` | `{path}` | {licence} | `{entry['integrity']}` |")
    (VENDOR / "VERSIONS.md").write_text(
        "# Vendored GraphiQL assets\n\n"
        f"The files strawberry-graphql {version('strawberry-graphql')}'s GraphiQL page loads "
        "from unpkg.com,\ntaken from the npm registry with `npm pack` by "
        "`static/update_vendor.py`, each checked\nagainst the page's integrity hash. Served at "
        "`/static/vendor/<package>@<version>/<path>`.\n\n"
        "| package | file | licence | integrity |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    print(f"vendored {len(rows)} files into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

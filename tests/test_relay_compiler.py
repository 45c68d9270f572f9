"""relay-compiler, Relay's own build step, compiles `@connection` fragments against the committed
`schema.graphql`: forward pagination of an organization's keys, backward pagination of a user's
organizations, and a query spreading both. It refuses a connection whose `PageInfo` lacks
`hasPreviousPage`/`startCursor`, as the schema before this change had."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.npm_tools import tools_or_skip

ROOT = Path(__file__).resolve().parent.parent
COMPILE_TIMEOUT_SECONDS = 120

COMPONENT = """
import { graphql } from "react-relay";

export const keys = graphql`
  fragment Keys_organization on Organization
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" }) {
    apiKeys(first: $count, after: $cursor) @connection(key: "Keys_organization_apiKeys") {
      edges { node { id name status expiresAt } }
    }
  }
`;

export const organizations = graphql`
  fragment Keys_user on User
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" }) {
    organizations(last: $count, before: $cursor) @connection(key: "Keys_user_organizations") {
      edges { node { id name viewerRole ...Keys_organization } }
    }
  }
`;

export const query = graphql`
  query KeysQuery($id: ID!) {
    organization(id: $id) { ...Keys_organization }
    me { ...Keys_user }
  }
`;
"""


def compile_against(schema: str, project: Path) -> subprocess.CompletedProcess[str]:
    tools = tools_or_skip()
    (project / "src" / "__generated__").mkdir(parents=True)
    (project / "schema.graphql").write_text(schema)
    (project / "src" / "Keys.js").write_text(COMPONENT)
    config = {
        "src": "./src",
        "schema": "./schema.graphql",
        "language": "javascript",
        "artifactDirectory": "./src/__generated__",
    }
    (project / "relay.config.json").write_text(json.dumps(config))
    return subprocess.run(
        [str(tools / "node_modules" / ".bin" / "relay-compiler")],
        cwd=project,
        env={**os.environ, "FORCE_NO_WATCHMAN": "1"},
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT_SECONDS,
    )


def test_relay_compiles_connection_fragments_against_the_schema(tmp_path: Path) -> None:
    # given / when
    result = compile_against((ROOT / "schema.graphql").read_text(), tmp_path)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    generated = sorted(p.name for p in (tmp_path / "src" / "__generated__").iterdir())
    assert generated == [
        "KeysQuery.graphql.js",
        "Keys_organization.graphql.js",
        "Keys_user.graphql.js",
    ]
    keys = (tmp_path / "src" / "__generated__" / "Keys_organization.graphql.js").read_text()
    assert '"connection"' in keys and "Keys_organization_apiKeys" in keys


def test_relay_refuses_a_page_info_without_backward_fields(tmp_path: Path) -> None:
    # given the schema as it was: PageInfo with only hasNextPage and endCursor
    schema = (ROOT / "schema.graphql").read_text()
    for field in ("hasPreviousPage: Boolean!", "startCursor: String"):
        # the field with the description above it
        pattern = rf'\n(  """(?:[^"]|"(?!""))*"""\n)?  {field}\n'
        schema, found = re.subn(pattern, "\n", schema)
        assert found == 1, field
    # when
    result = compile_against(schema, tmp_path)
    # then
    assert result.returncode != 0
    assert "hasPreviousPage" in result.stdout + result.stderr, result.stdout + result.stderr

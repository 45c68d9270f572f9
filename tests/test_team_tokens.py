"""Invitation (`inv_…`) and password-reset (`rst_…`) tokens share the keys' grammar: checksum,
deployment prefix, log redaction; and neither is a credential."""

from __future__ import annotations

import pytest

from models import tokens
from tests.support import mistyped
from web.redaction import redact


@pytest.mark.parametrize("kind", [tokens.TokenKind.INVITATION, tokens.TokenKind.PASSWORD_RESET])
@pytest.mark.parametrize("prefix", ["", "acme"])
def test_team_tokens_follow_the_grammar(kind: tokens.TokenKind, prefix: str) -> None:
    token = tokens.generate(kind, prefix)
    assert token.startswith(f"{prefix}_{kind.value}_" if prefix else f"{kind.value}_")
    assert tokens.parse(token) is kind
    assert tokens.parse(mistyped(token)) is None
    # and a log line never shows it, whole or cut short
    line = f"link https://keys.example.org/#x={token} and {token[:20]}"
    assert token not in redact(line) and token[:20] not in redact(line)

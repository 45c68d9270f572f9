"""docs/secret-scanning/gitleaks.toml, judged with its own regular expression and entropy bound:
it finds every generated secret key (with or without a deployment prefix, in code, in .env files,
in JSON) and none that is cut short, made longer, of another kind, or a placeholder."""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from models import tokens

RULES = Path(__file__).parent.parent / "docs" / "secret-scanning" / "gitleaks.toml"


def _rule() -> tuple[re.Pattern[str], int, float]:
    [rule] = tomllib.loads(RULES.read_text())["rules"]
    return re.compile(rule["regex"]), int(rule["secretGroup"]), float(rule["entropy"])


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def found(text: str) -> list[str]:
    """What gitleaks reports in `text`: the secret group of each match above the entropy."""
    regex, group, entropy = _rule()
    return [m.group(group) for m in regex.finditer(text) if _entropy(m.group(group)) > entropy]


@pytest.mark.parametrize("prefix", ["", "acme", "k8s"])
@pytest.mark.parametrize(
    "context",
    ["{}", "KEYWARD_KEY={}\n", '{{"key": "{}"}}', "headers = {{'Authorization': 'Bearer {}'}}"],
)
def test_a_generated_secret_key_is_found(prefix: str, context: str) -> None:
    # given generated keys written in a file
    for _ in range(50):
        token = tokens.generate(tokens.TokenKind.SECRET_KEY, prefix)
        # when gitleaks' rule reads it
        # then it finds exactly the token
        assert found(context.format(token)) == [token]


def test_mistyped_and_foreign_strings_are_not_found() -> None:
    # given a real key and strings that are not one
    token = tokens.generate(tokens.TokenKind.SECRET_KEY)
    not_tokens = [
        token[:-1],  # a character dropped
        token + "x",  # a character added
        "x" + token[3:] if token.startswith("sk_") else token,  # kind lost
        token.replace("sk_", "sx_", 1),  # another kind
        tokens.generate(tokens.TokenKind.PUBLIC_KEY),  # published by design
        "sk_" + "X" * 49,  # a placeholder in documentation
    ]
    # when gitleaks' rule reads them
    # then it finds none
    for text in not_tokens:
        assert found(f"key = {text}\n") == [], text


def test_a_replaced_character_passes_the_regex_but_not_the_checksum() -> None:
    # given a key with one character of its body replaced (what the regex cannot see)
    token = tokens.generate(tokens.TokenKind.SECRET_KEY)
    body_at = token.index("_") + 5
    typo = token[:body_at] + ("A" if token[body_at] != "A" else "B") + token[body_at + 1 :]
    # when it is scanned and parsed
    # then the rule reports it, and keyward's checksum refuses it without a lookup
    assert found(typo) == [typo]
    assert tokens.parse(typo) is None

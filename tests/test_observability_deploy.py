"""The shipped dashboard and alert rules query only metrics keyward really exposes, and
Prometheus's own tool accepts the rules and the scrape."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML, with schemathesis
from aiohttp import web

from jobs.runner import JobRunner
from settings import Settings
from tests.harness import Api, Clock
from tests.metrics_support import metrics_app, parse, scrape_text
from web.state import DATABASE

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "keyward.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
# PromQL words that look like metric names.
PROMQL_WORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
     "unless", "offset", "inf", "nan"}
)  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers that are neither functions, label
    names (inside braces or `by (…)`), durations nor PromQL keywords."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    names = set(re.findall(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", expr))
    return {name for name in names if name.lower() not in PROMQL_WORDS}


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def alert_exprs() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_the_extractor_finds_metric_names() -> None:
    expr = 'time() - max by (job) (a_b{x="y"}) + sum(rate(c_total{s=~"5.."}[5m])) / 3 * 60'
    assert metric_names(expr) == {"a_b", "c_total"}


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return metrics_app(settings, clock)


async def test_every_metric_the_dashboard_and_alerts_query_is_exposed(
    api: Api, app: web.Application, settings: Settings, clock: Clock
) -> None:
    # given a process that served a verification and ran its jobs
    account = await api.sign_up()
    await api.verify(account.default_key["token"])
    runner = JobRunner(settings=settings, database=app[DATABASE], clock=clock)
    for job in ("expire-rolled", "purge-expired"):
        await runner.run_now(job, wait_seconds=0)
    # when
    exposed = {name for name, _ in parse(await scrape_text(api.client))}
    # then every name queried is a real series
    queried = {name for expr in dashboard_exprs() + alert_exprs() for name in metric_names(expr)}
    assert len(queried) >= 10
    assert sorted(queried - exposed) == []
    titles = " ".join(panel["title"] for panel in json.loads(DASHBOARD.read_text())["panels"])
    for topic in ("Verifications", "p99", "GraphQL errors", "Sign-in", "Job lag", "pool"):
        assert topic in titles


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="needs promtool (apt-get install prometheus)"
)
async def test_promtool_accepts_the_rules_and_the_scrape(api: Api) -> None:
    # given
    await api.verify("sk_nope")
    text = await scrape_text(api.client)
    # when
    rules = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    scrape = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    # then
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "4 rules found" in rules.stdout
    assert scrape.returncode == 0, scrape.stdout + scrape.stderr

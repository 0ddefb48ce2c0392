"""The Dagster UI, driven for real in headless Chromium (Debian's `chromium` through
Playwright; no browser is downloaded at test time).

`marketing-ops ui` (what `make ui` runs: `dagster dev`, webserver and daemon) serves a copy of
the flow world, with the virtualenv's bin off PATH as when nobody activated it. In the
browser: the global asset graph shows every stage; the decision batch is materialised from
its asset page and its metadata (batch id, ledger entry) is read back there; the approval
job is launched from the Launchpad as an approver listed in roles.yaml and lands on the
approvals ledger; the performance report the flow wrote renders with its charts.

Screenshots are kept under ``artifacts/ui/`` (``MARKETING_OPS_TEST_ARTIFACTS`` moves them),
with the UI's own log beside them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import free_port, stop_group

from marketing_ops.config import PROJECT_ROOT, DataHome, data_home
from marketing_ops.decisioning import read_approvals
from marketing_ops.decisioning.ledger.decisions import batch_entries, read_entries, read_payload

ARTIFACTS = Path(os.environ.get("MARKETING_OPS_TEST_ARTIFACTS", PROJECT_ROOT / "artifacts")) / "ui"
CHROMIUM = "/usr/bin/chromium"
# The flags of this machine's browser probe: no sandbox (CI runs as root), no GPU, and no
# background connections (the closed network refuses them, many at a time).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOAD_SECONDS = 300
RUN_SECONDS = 600
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
APPROVER = "Performance Lead"  # roles.yaml: may approve budget_allocation


@dataclass
class Ui:
    base: str
    home: DataHome
    end: object
    log: Path


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    """One query to the webserver's GraphQL endpoint (what the UI itself calls)."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{base}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        out = json.load(response)
    assert "errors" not in out, out["errors"]
    return out["data"]


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
RUNS = """query($limit: Int) { runsOrError(limit: $limit) { ... on Runs { results {
    runId jobName status tags { key value } } } } }"""
RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { runId jobName status } } }"""


def _wait_until_loaded(base: str, server: subprocess.Popen, log: Path) -> None:
    """The code location loaded (a load error fails here, with its message)."""
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"`marketing-ops ui` exited; log {log}:\n{_tail(log)}"
        try:
            (entry,) = graphql(base, LOCATIONS)["workspaceOrError"]["locationEntries"]
        except (OSError, ValueError):
            time.sleep(1)
            continue
        if entry["loadStatus"] == "LOADED":
            loaded = entry["locationOrLoadError"]
            assert loaded["__typename"] == "RepositoryLocation", loaded.get("message", loaded)
            return
        time.sleep(1)
    pytest.fail(f"the code location did not load in {LOAD_SECONDS} s; log {log}:\n{_tail(log)}")


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@pytest.fixture(scope="module")
def ui(flow_world, tmp_path_factory) -> Iterator[Ui]:
    root = tmp_path_factory.mktemp("ui") / "home"
    shutil.copytree(flow_world.home.root, root)  # the UI's runs must not touch the shared world
    home = data_home(root).ensure()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "marketing-ops-ui.log"
    port = free_port()
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env = {**os.environ, "PATH": path}
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "marketing-ops"),
                "ui",
                "--home",
                str(root),
                "--port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_loaded(base, server, log)
        yield Ui(base, home, flow_world.end, log)
    finally:
        stop_group(server, grace=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (`make test` and .ci/run do)"
    )
    with sync_playwright() as p:
        # A new, empty profile per launch (Playwright's default user-data-dir).
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def dismiss_welcome(page) -> None:
    """Dagster shows a 'Join the community' dialog once per instance; Skip it if it is up."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=5_000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the dialog is not shown
        return
    skip.click()
    skip.wait_for(state="hidden")


def run_ids(base: str) -> set[str]:
    return {r["runId"] for r in graphql(base, RUNS, {"limit": 100})["runsOrError"]["results"]}


def new_ui_run(base: str, before: set[str]) -> dict:
    """The run the browser just launched: new since ``before`` and tagged as from the UI."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for run in graphql(base, RUNS, {"limit": 20})["runsOrError"]["results"]:
            tags = {t["key"]: t["value"] for t in run["tags"]}
            if run["runId"] not in before and tags.get("dagster/from_ui") == "true":
                return run
        time.sleep(1)
    pytest.fail("no run launched from the UI appeared")


def wait_for_run(ui: Ui, run_id: str) -> str:
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        status = graphql(ui.base, RUN, {"id": run_id})["runOrError"]["status"]
        if status in TERMINAL:
            return status
        time.sleep(2)
    pytest.fail(f"run {run_id} still not finished after {RUN_SECONDS} s; log {ui.log}")


def test_asset_graph_shows_every_stage(ui, page) -> None:
    """Lineage (the global asset graph) lists every asset group of DESIGN.md."""
    from .test_code_location import GROUPS

    page.goto(f"{ui.base}/asset-groups")
    dismiss_welcome(page)
    page.get_by_text("Global asset lineage").wait_for()
    for group in sorted(GROUPS):
        page.get_by_text(group, exact=True).first.wait_for()
    shot(page, "01-asset-graph")


def test_materialise_the_decision_batch_then_approve_from_the_ui(ui, page) -> None:
    """Launch the decision batch for the last day from its asset page; the run succeeds, the
    asset page shows the batch id and ledger entry the run recorded; approving one of its
    pending actions from the record_approval Launchpad appends a verdict to the ledger."""
    day = ui.end.isoformat()
    before_entries = batch_entries(read_entries(ui.home))
    before_runs = run_ids(ui.base)

    page.goto(f"{ui.base}/assets/decisions/decision_batch")
    dismiss_welcome(page)
    page.get_by_role("button", name="Materialize…").click()
    dialog = page.get_by_role("dialog")
    partitions = dialog.locator("input[type=text]").first
    partitions.fill(day)
    partitions.press("Enter")
    launch = dialog.get_by_role("button", name="Launch 1 run")
    launch.wait_for()
    shot(page, "02-launch-decision-batch")
    launch.click()

    run = new_ui_run(ui.base, before_runs)
    assert wait_for_run(ui, run["runId"]) == "SUCCESS", f"run {run['runId']}; log {ui.log}"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/partition"] == day

    page.goto(f"{ui.base}/runs/{run['runId']}")
    page.get_by_text("Success").first.wait_for()
    shot(page, "03-decision-run")

    entries = batch_entries(read_entries(ui.home))
    assert len(entries) == len(before_entries) + 1
    entry = entries[-1]
    assert entry["dagster_run_id"] == run["runId"] and entry["as_of"] == day

    page.goto(f"{ui.base}/assets/decisions/decision_batch")
    page.get_by_text(entry["batch_id"], exact=True).first.wait_for()  # metadata and its table
    page.get_by_text(entry["hash"], exact=True).first.wait_for()
    metadata = page.locator("body").inner_text()
    assert "pending_approval" in metadata and "replay_verified" in metadata
    shot(page, "04-decision-batch-metadata")

    batch = json.loads(read_payload(ui.home, entry["payloads"]["batch"]))
    pending = [
        a
        for a in batch
        if a["status"] == "pending_approval" and a["action_type"] == "budget_allocation"
    ]
    assert pending, "the default policies hold budget moves above the threshold for approval"
    decision_id = pending[0]["decision_id"]
    approvals_before = len(read_approvals(ui.home))

    before_runs = run_ids(ui.base)
    page.goto(f"{ui.base}/locations/marketing_ops/jobs/record_approval/playground")
    editor = page.locator(".CodeMirror").first
    editor.click()
    page.keyboard.press("Control+A")
    # One line of flow-style YAML: typed line by line, the editor would re-indent it.
    page.keyboard.insert_text(
        "ops: {approval_verdict: {config: {"
        f'decision_id: "{decision_id}", verdict: approve, approver: "{APPROVER}", '
        'reason: "approved in the browser test"}}}'
    )
    launch = page.get_by_role("button", name="Launch Run")
    page.get_by_text("Missing required config").wait_for(state="detached")
    shot(page, "05-approval-launchpad")
    launch.click()
    page.wait_for_url("**/runs/**")

    run = new_ui_run(ui.base, before_runs)
    assert run["jobName"] == "record_approval" and page.url.endswith(run["runId"])
    assert wait_for_run(ui, run["runId"]) == "SUCCESS", f"run {run['runId']}; log {ui.log}"
    page.reload()
    page.get_by_text(f"approved {decision_id} as {APPROVER}").first.wait_for()
    shot(page, "06-approval-run")

    approvals = read_approvals(ui.home)  # verifies the hash chain as it reads
    assert len(approvals) == approvals_before + 1
    last = approvals[-1]
    assert (last["decision_id"], last["approver"], last["verdict"]) == (
        decision_id,
        APPROVER,
        "approved",
    )


def test_performance_report_renders_with_its_charts(ui, page) -> None:
    """The report the flow wrote opens in the browser from latest.html, and every chart image
    decodes."""
    latest = ui.home.reports / "performance" / "latest.html"
    page.goto(latest.as_uri())
    page.wait_for_url(f"**/{ui.end.isoformat()}/report.html")  # latest.html forwards to it
    page.wait_for_load_state("load")
    images = page.locator("img")
    assert images.count() >= 3
    widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths
    shot(page, "07-performance-report")

"""Which resources exist and where they point. The one place that decides the environment.

Nothing is read from the environment at import time: the data home and secrets are resolved
when a run asks for them.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject

from marketing_ops.config import DBT_PROJECT_DIR, DataHome, data_home
from marketing_ops.warehouse import connect

# Every step that opens the DuckDB file (and so also the Kuzu graph, which only such steps
# touch) runs in this pool; dagster.yaml limits each pool to one step at a time, across runs.
STORE_POOL = "duckdb"

DEMO_ENV = "MARKETING_OPS_DEMO"


class StoreResource(dg.ConfigurableResource):
    """The data home and the warehouse inside it."""

    home_root: str | None = None

    def home(self) -> DataHome:
        return data_home(self.home_root).ensure()

    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.home().warehouse) as con:
            yield con

    def demo_mode(self) -> bool:
        return os.environ.get(DEMO_ENV, "") == "1"

    def pii_key(self) -> bytes:
        from marketing_ops.signals.privacy import pii_key

        return pii_key(demo=self.demo_mode())


WEBHOOK_URL_ENV = "MARKETING_OPS_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "MARKETING_OPS_WEBHOOK_SECRET"


class ConnectorsResource(dg.ConfigurableResource):
    """Which connector serves which channel.

    The sandbox outbox serves every channel by default. When the webhook URL is set (config,
    or ``$MARKETING_OPS_WEBHOOK_URL``), the channels in ``webhook_channels`` (``*`` = all)
    post to it instead, signed with ``$MARKETING_OPS_WEBHOOK_SECRET``. Both are read through
    ``EnvVar`` when a run asks for the connectors, never at import, and the secret never
    appears in run config or the UI. ``dry_run`` makes execution say what it would send.
    """

    webhook_url: str | None = None
    webhook_channels: list[str] = ["*"]
    webhook_url_env: str = WEBHOOK_URL_ENV
    webhook_secret_env: str = WEBHOOK_SECRET_ENV
    dry_run: bool = False

    def url(self) -> str | None:
        return self.webhook_url or dg.EnvVar(self.webhook_url_env).get_value() or None

    def connectors(self, home: DataHome) -> dict:
        from marketing_ops.execution import SandboxConnector, WebhookConnector

        sandbox = SandboxConnector(home.outbox)
        url = self.url()
        if not url:
            return {"*": sandbox}
        secret = dg.EnvVar(self.webhook_secret_env).get_value()
        if not secret:
            raise RuntimeError(
                f"webhook url is set but {self.webhook_secret_env} is not: payloads must be "
                "signed; set it to the secret shared with the receiver"
            )
        hook = WebhookConnector(url, secret.encode(), home.ledger / "webhook_deliveries.jsonl")
        if "*" in self.webhook_channels:
            return {"*": hook}
        return {"*": sandbox, **{c: hook for c in self.webhook_channels}}


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt next to this interpreter: the venv need not be activated (STACK_NOTES)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def resources() -> dict[str, object]:
    return {
        "store": StoreResource(),
        "connectors": ConnectorsResource(),
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    }

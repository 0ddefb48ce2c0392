"""The forecasts stage inside the real flow: what the three assets store, the seasonal-naive
check, pictures in metadata and the report folder, and the forward plan read back from the
warehouse agreeing with what the optimiser scored."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from marketing_ops.forecasting import ForwardPlanner, worse_than_naive
from marketing_ops.runner import prepare_instance
from marketing_ops.warehouse import connect, read_table

PAID = {"paid_search", "display", "paid_social", "email"}


@pytest.fixture(scope="module")
def stored(flow_world) -> dict[str, pd.DataFrame]:
    day = flow_world.end
    with connect(flow_world.home.warehouse, read_only=True) as con:
        return {
            "forecasts": read_table(
                con, "agent.forecasts", date_column="as_of", start=day, end=day
            ),
            "curves": read_table(
                con, "agent.response_curves", date_column="as_of", start=day, end=day
            ),
            "backtests": read_table(con, "agent.backtests"),
            "kpis": read_table(
                con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day
            ),
            "decisions": read_table(
                con, "agent.decisions", date_column="as_of", start=day, end=day
            ),
        }


def test_baselines_cover_channels_audiences_and_the_demand_index(stored) -> None:
    """Conversions and revenue for every channel and for audiences, the demand index for
    every channel, one model version."""
    f = stored["forecasts"]
    series = f[f["metric"] != "seasonal_index"]
    channels = series.dropna(subset=["channel"])
    assert set(channels["channel"]) == set(stored["kpis"]["channel"])
    assert set(channels["metric"]) == {"conversions", "revenue"}
    assert series["audience_id"].notna().sum() > 0
    index = f[f["metric"] == "seasonal_index"]
    assert set(index["channel"]) == set(stored["kpis"]["channel"])
    assert f["model_version"].nunique() == 1 and f["model_version"].iloc[0].startswith("prophet-")


def test_backtests_store_every_model_with_its_version(stored) -> None:
    bt = stored["backtests"]
    assert set(bt["model"]) == {"prophet", "response", "seasonal_naive"}
    assert set(bt.loc[bt["model"] == "response", "channel"]) == PAID
    assert bt.groupby("model")["model_version"].nunique().max() == 1
    assert (bt["n"] == bt["origins"] * bt["horizon_days"]).all()


def test_check_flags_exactly_the_series_behind_seasonal_naive(flow_world, stored) -> None:
    """The check's verdict and count match the stored backtest: it can fail, and says why."""
    instance = prepare_instance(flow_world.home)
    key = dg.AssetCheckKey(dg.AssetKey(["forecasts", "backtests"]), "beats_seasonal_naive")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    flagged = worse_than_naive(stored["backtests"])
    assert evaluation.passed == flagged.empty
    assert evaluation.metadata["flagged"].value == len(flagged)


@pytest.mark.parametrize(
    ("key", "pictures"),
    [
        (["forecasts", "baselines"], ["picture_conversions", "picture_audiences"]),
        (["forecasts", "response_curves"], ["picture_curves", "picture_fit"]),
        (["forecasts", "backtests"], ["picture_mase"]),
    ],
)
def test_pictures_are_in_metadata_and_the_report_folder(flow_world, key, pictures) -> None:
    instance = prepare_instance(flow_world.home)
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    metadata = event.asset_materialization.metadata
    for name in pictures:
        assert metadata[name].value.startswith(
            f"![{name.removeprefix('picture_')}](data:image/png;base64,"
        )
    page = metadata["report"].value
    folder = flow_world.home.reports / "forecasts" / flow_world.end.isoformat()
    assert page.startswith(str(folder))
    for name in pictures:
        png = folder / f"{key[1]}_{name.removeprefix('picture_')}.png"
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_forward_plan_from_the_warehouse_agrees_with_the_optimiser(flow_world, stored) -> None:
    """Planning the decision batch's budget from the stored tables gives, per paid channel,
    the expected revenue the optimiser recorded for that amount once the revenue the carried-in
    adstock buys on its own (the same plan at zero spend) is taken off: the optimiser records
    what the amount adds, the forward plan forecasts the whole period. The total adds
    baselines."""
    planner = ForwardPlanner.from_tables(
        stored["kpis"], stored["forecasts"], stored["curves"], flow_world.end
    )
    budget_rows = stored["decisions"][stored["decisions"]["action_type"] == "budget_allocation"]
    budget = {
        r.channel: float(r.amount)
        for r in budget_rows.itertuples()
        if r.channel in planner.responses
    }
    assert budget
    plan = planner.plan(budget)
    by_channel = plan.channels.set_index("channel")
    carried = planner.plan(dict.fromkeys(budget, 0.0)).channels.set_index("channel")
    assert (carried.loc[list(budget), "revenue"] > 0).any()  # the world carries adstock in
    for r in budget_rows.itertuples():
        if r.channel in budget:
            added = by_channel.loc[r.channel, "revenue"] - carried.loc[r.channel, "revenue"]
            assert added == pytest.approx(r.expected_revenue, rel=1e-3)
    assert plan.revenue > by_channel.loc[list(budget), "revenue"].sum()
    assert plan.total["revenue_lower"] < plan.revenue < plan.total["revenue_upper"]

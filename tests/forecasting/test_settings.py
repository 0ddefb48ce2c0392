"""forecasting.yaml: defaults, a data home's own file, and errors naming file and field."""

from __future__ import annotations

import pytest

from marketing_ops.forecasting import ForecastSettingsError, load_forecast_settings


def test_packaged_defaults_load() -> None:
    s = load_forecast_settings()
    assert (s.country, s.horizon_days, s.backtest.origins) == ("US", 7, 4)
    assert load_forecast_settings(None) is s


def test_a_missing_file_means_the_defaults(tmp_path) -> None:
    assert load_forecast_settings(tmp_path / "nope.yaml") == load_forecast_settings()


def test_own_file_overrides_and_changes_the_version(tmp_path) -> None:
    """Only the settings written change; the version (part of every model version) moves."""
    path = tmp_path / "forecasting.yaml"
    path.write_text("forecasting:\n  country: de\n  backtest:\n    origins: 2\n")
    s = load_forecast_settings(path)
    assert (s.country, s.backtest.origins, s.horizon_days) == ("DE", 2, 7)
    assert s.version != load_forecast_settings().version
    path.write_text("# a comment\nforecasting:\n  country: DE\n  backtest: {origins: 2}\n")
    assert load_forecast_settings(path).version == s.version


def test_auto_decides_on_the_media_mix_model_from_a_year_of_history(tmp_path) -> None:
    """The default `response_model: auto` resolves to the media mix model once the KPI
    history has `mmm.min_history_days` days (365 by default), else to the attributed curves;
    a model written explicitly is used whatever the history."""
    import pandas as pd

    from marketing_ops.forecasting import curves_model_of

    s = load_forecast_settings()
    assert s.response_model == "auto" and s.mmm.min_history_days == 365
    assert (s.curves_model(364), s.curves_model(365), s.curves_model(0)) == (
        "attributed",
        "mmm",
        "attributed",
    )
    days = pd.date_range("2025-01-01", periods=365).repeat(3)  # three channels a day
    kpis = pd.DataFrame({"date_day": days, "channel": ["a", "b", "c"] * 365})
    assert curves_model_of(s, kpis) == "mmm"
    assert curves_model_of(s, kpis.iloc[3:]) == "attributed"
    assert curves_model_of(s, kpis.iloc[:0]) == "attributed"
    path = tmp_path / "forecasting.yaml"
    for model in ("attributed", "mmm"):
        path.write_text(f"forecasting:\n  response_model: {model}\n")
        own = load_forecast_settings(path)
        assert own.curves_model(10) == own.curves_model(1000) == model
    path.write_text("forecasting:\n  mmm: {min_history_days: 90}\n")
    assert load_forecast_settings(path).curves_model(90) == "mmm"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "forecasting:\n  country: XX\n",
            "forecasting.yaml: forecasting.country: expected unknown holiday country 'XX'",
        ),
        (
            "forecasting:\n  horizon_days: 0\n",
            "forecasting.yaml: forecasting.horizon_days: expected a whole number of days, 1 to 90, got 0",
        ),
        (
            "forecasting:\n  backtest:\n    origin: 3\n",
            "forecasting.yaml: forecasting.backtest.origin: no such setting",
        ),
        (
            "forecasting:\n  interval_width: wide\n",
            "forecasting.yaml: forecasting.interval_width: expected a share between 0 and 1, got 'wide'",
        ),
        ("country: US\n", "expected exactly one top-level key `forecasting:`"),
        ("forecasting: [\n", "cannot be read as YAML"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, text, message) -> None:
    path = tmp_path / "forecasting.yaml"
    path.write_text(text)
    with pytest.raises(ForecastSettingsError) as err:
        load_forecast_settings(path)
    assert message in str(err.value)

"""measurement.yaml: defaults without a file, dbt vars from it, errors that name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketing_ops.measurement.settings import (
    MeasurementSettings,
    MeasurementSettingsError,
    known_channels,
    load_measurement_settings,
)


def _write(folder: Path, text: str) -> Path:
    (folder / "measurement.yaml").write_text(text)
    return folder


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_measurement_settings(tmp_path)
    assert settings == MeasurementSettings()
    assert settings.attribution.dbt_vars() == {
        "attribution_lookback_days": 30,
        "attribution_half_life_days": 7.0,
        "attribution_first_touch_share": 0.4,
        "attribution_last_touch_share": 0.4,
    }
    assert settings.channel_grouping == []


def test_a_file_sets_lookback_and_rules(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
measurement:
  attribution:
    lookback_days: 14
    training_days: 60
  channel_grouping:
    - source: "partner-blog\\\\.example"
      medium: referral
      channel: paid_social
      description: The partner is paid per click
""",
    )
    settings = load_measurement_settings(tmp_path)
    assert settings.attribution.lookback_days == 14 and settings.attribution.training_days == 60
    assert settings.attribution.dbt_vars()["attribution_lookback_days"] == 14
    [rule] = settings.channel_grouping
    assert (rule.source, rule.medium, rule.channel) == (
        r"partner-blog\.example",
        "referral",
        "paid_social",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "measurement:\n  attribution:\n    lookback_days: 0\n",
            "measurement.yaml: measurement.attribution.lookback_days: Input should be greater than or equal to 1, got 0",
        ),
        (
            "measurement:\n  attribution:\n    lookback: 10\n",
            "measurement.yaml: measurement.attribution.lookback: no such setting",
        ),
        (
            "measurement:\n  attribution:\n    first_touch_share: 0.7\n    last_touch_share: 0.6\n",
            "first_touch_share + last_touch_share must not exceed 1",
        ),
        (
            "measurement:\n  channel_grouping:\n    - {source: 'a(', medium: cpc, channel: paid_search}\n",
            "measurement.yaml: measurement.channel_grouping.0.source: is not a regular expression",
        ),
        (
            "measurement:\n  channel_grouping:\n    - {source: a, medium: cpc, channel: affiliates}\n",
            "measurement.channel_grouping.0.channel: unknown channel 'affiliates'",
        ),
        (
            "measurement:\n  channel_grouping:\n    - {source: a, channel: display}\n",
            "measurement.yaml: measurement.channel_grouping.0.medium: missing",
        ),
        ("attribution:\n  lookback_days: 3\n", "expected exactly one top-level key `measurement:`"),
        ("measurement: [\n", "measurement.yaml: not valid YAML"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, text)
    with pytest.raises(MeasurementSettingsError) as raised:
        load_measurement_settings(tmp_path)
    assert message in str(raised.value)


def test_rules_may_only_name_known_channels() -> None:
    """The channels a rule may name are the dbt seed's, so every touch has a dim_channel row."""
    assert known_channels() == (
        "paid_search",
        "display",
        "paid_social",
        "email",
        "organic_search",
        "direct",
        "referral",
    )

"""Policy files: validation errors people can act on, and a version that tracks meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketing_ops.decisioning import PolicyError, ensure_default_policies, load_policies


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    ensure_default_policies(folder)
    return folder


def test_defaults_load_with_documented_values(policies: Path) -> None:
    """The shipped defaults validate and say what their comments say."""
    p = load_policies(policies)
    assert p.budget.period_days == 7
    assert p.budget.total_budget == "keep_last_period"
    assert p.autonomy.level == "approve_above_threshold"
    assert p.content.allowed_channels == ["email"]
    assert len(p.version) == 12 and int(p.version, 16) >= 0


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "budget.yaml",
            "budget:\n  max_shift_pct: lots\n",
            "policies/budget.yaml: budget.max_shift_pct: expected a number between 0 and 100, got 'lots'",
        ),
        (
            "budget.yaml",
            "budget:\n  max_shift_pct: 150\n",
            "policies/budget.yaml: budget.max_shift_pct: expected a number between 0 and 100, got 150",
        ),
        (
            "autonomy.yaml",
            "autonomy:\n  level: sometimes\n",
            "policies/autonomy.yaml: autonomy.level: expected one of 'off', 'recommend_only', "
            "'approve_above_threshold' or 'full', got 'sometimes'",
        ),
        (
            "budget.yaml",
            "budget:\n  max_shfit_pct: 10\n",
            "policies/budget.yaml: budget.max_shfit_pct: no such setting; expected one of objective,",
        ),
        (
            "budget.yaml",
            "budget:\n  channels:\n    display: {max_eur_per_day: -5}\n",
            "policies/budget.yaml: budget.channels.display.max_eur_per_day: expected an amount in EUR per day, or null for no cap, got -5",
        ),
        (
            "budget.yaml",
            "budget:\n  objective: min_spend\n",
            "policies/budget.yaml: budget: objective min_spend needs target_revenue",
        ),
        (
            "content.yaml",
            "content:\n  exploration: {max_share: 2}\n",
            "policies/content.yaml: content.exploration.max_share: expected a share between 0 and 1, got 2",
        ),
        (
            "roles.yaml",
            "roles:\n  approvers:\n    - {name: Ann, may_approve: [everything]}\n",
            "policies/roles.yaml: roles.approvers.0.may_approve.0: expected a list of action types",
        ),
        (
            "compliance.yaml",
            "compliance:\n  regulated_claims: {need_aproval: true}\n",
            "policies/compliance.yaml: compliance.regulated_claims.need_aproval: no such setting; "
            "expected one of allowed, excluded_audiences, need_approval",
        ),
        (
            "compliance.yaml",
            "compliance:\n  require_brand_safe: sometimes\n",
            "policies/compliance.yaml: compliance.require_brand_safe: expected true or false, got 'sometimes'",
        ),
        (
            "content.yaml",
            "content:\n  fatigue: {min_days_between_same_asset: -3}\n",
            "policies/content.yaml: content.fatigue.min_days_between_same_asset: expected a whole number of days >= 0",
        ),
        (
            "budget.yaml",
            "budget:\n  target_cpa: 0\n",
            "policies/budget.yaml: budget.target_cpa: expected a number > 0 (EUR per conversion), or null, got 0",
        ),
        (
            "budget.yaml",
            "budget:\n  plan_level: adgroup\n",
            "policies/budget.yaml: budget.plan_level: expected one of 'channel' or 'campaign', got 'adgroup'",
        ),
        (
            "budget.yaml",
            "budget:\n  objective: min_spend\n  target_revenue: 10\n  target_conversions: 5\n",
            "policies/budget.yaml: budget: objective min_spend takes one target",
        ),
        (
            "budget.yaml",
            "budget:\n  objective: target_roas\n",
            "policies/budget.yaml: budget: objective target_roas needs target_roas",
        ),
        (
            "budget.yaml",
            "budget:\n  objective: target_cpa\n  target_roas: 3\n",
            "policies/budget.yaml: budget: objective target_cpa needs target_cpa",
        ),
        (
            "approvals.yaml",
            "approval:\n  money_moved_eur: 10\n",
            "policies/approvals.yaml: expected exactly one top-level key `approvals:`, got ['approval']",
        ),
    ],
)
def test_errors_name_file_field_and_expected_form(
    policies: Path, file: str, text: str, message: str
) -> None:
    """A bad value, an unknown level, a misspelt key or a wrong section is reported with
    the file, the dotted field and the form that was expected."""
    (policies / file).write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policies(policies)
    assert message in str(err.value)


def test_missing_file_is_named(policies: Path) -> None:
    """A deleted policy file is reported by name, with how to get the default back."""
    (policies / "roles.yaml").unlink()
    with pytest.raises(
        PolicyError, match=r"policies/roles.yaml: missing file.*ensure_default_policies"
    ):
        load_policies(policies)


def test_stray_policy_file_is_refused(policies: Path) -> None:
    """A YAML file that is not a known policy is an error, not silently ignored."""
    (policies / "budgets.yaml").write_text("budget: {}\n")
    with pytest.raises(PolicyError, match=r"policies/budgets.yaml: not a policy file"):
        load_policies(policies)


def test_version_tracks_meaning_not_formatting(policies: Path) -> None:
    """Comments, whitespace, key order and 30 vs 30.0 keep the version; a changed value changes it."""
    before = load_policies(policies).version
    budget = policies / "budget.yaml"
    budget.write_text(
        "# rewritten by hand\nbudget:\n\n  max_shift_pct: 30.0   # same value\n  objective:   max_revenue\n"
        "  channels:\n    display: {max_eur_per_day: null, min_eur_per_day: 0}\n"
        "    paid_social: {min_eur_per_day: 0}\n    paid_search: {min_eur_per_day: 0}\n"
    )
    assert load_policies(policies).version == before
    budget.write_text(budget.read_text().replace("30.0", "25"))
    assert load_policies(policies).version != before


def test_ensure_defaults_never_overwrites(policies: Path) -> None:
    """Copying defaults fills only missing files; what people wrote stays."""
    (policies / "approvals.yaml").write_text("approvals:\n  money_moved_eur: 1\n")
    (policies / "content.yaml").unlink()
    copied = ensure_default_policies(policies)
    assert [p.name for p in copied] == ["content.yaml"]
    assert load_policies(policies).approvals.money_moved_eur == 1

"""Policies people write: YAML files in the data home's ``policies/`` folder.

Each file holds one section named like the file (``budget.yaml`` holds ``budget:``). They
load into pydantic models so a typo fails loudly, and every error names the file, the field
and the form that was expected, because the people editing these files are marketers, not
Python programmers. The policy version is a short hash of the *effective* content (validated
models, defaults filled in), so comments, whitespace and key order never change it while any
change in meaning does.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "AUTONOMY_LEVELS",
    "ApprovalPolicy",
    "Approver",
    "AutonomyPolicy",
    "BudgetPolicy",
    "ChannelBounds",
    "CompliancePolicy",
    "ContentPolicy",
    "ExplorationPolicy",
    "FatiguePolicy",
    "PolicyError",
    "PolicySet",
    "RolesPolicy",
    "TestingPolicy",
    "DEFAULT_POLICIES_DIR",
    "POLICY_FILES",
    "ensure_default_policies",
    "load_policies",
]

DEFAULT_POLICIES_DIR = Path(__file__).resolve().parent / "default_policies"
# Least to most autonomous; the order matters: the stricter of two levels wins.
AUTONOMY_LEVELS: tuple[str, ...] = ("off", "recommend_only", "approve_above_threshold", "full")
ACTION_TYPES: tuple[str, ...] = (
    "budget_allocation",
    "content_selection",
    "send_time",
    "incrementality_test",
)

AutonomyLevel = Literal["off", "recommend_only", "approve_above_threshold", "full"]


def _expect(form: str, **kw: Any) -> Any:
    """A Field that carries the plain-English form we quote back in error messages."""
    return Field(json_schema_extra={"expected": form}, **kw)


Percent = Annotated[float, _expect("a number between 0 and 100", ge=0, le=100)]
Euros = Annotated[float, _expect("an amount in EUR (a number >= 0)", ge=0)]
Share = Annotated[float, _expect("a share between 0 and 1", ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelBounds(_Strict):
    """Daily spend limits for one channel or campaign (EUR per day)."""

    min_eur_per_day: Euros = 0.0
    max_eur_per_day: Euros | None = _expect(
        "an amount in EUR per day, or null for no cap", default=None
    )


class BudgetPolicy(_Strict):
    """How the next period's paid budget may be split."""

    objective: Literal["max_revenue", "max_profit", "min_spend", "target_roas", "target_cpa"] = (
        "max_revenue"
    )
    period_days: int = _expect("a whole number of days between 1 and 31", default=7, ge=1, le=31)
    # days after the period that count, the plan's daily spend going on over them (the
    # following weeks held at the plan); the value is scaled to one period (budget/optimiser.py).
    # auto: AUTO_CARRYOVER_DAYS when experiments accepted by the fit behind the curves measured
    # every planned channel's carry-over (a tail row), else 0 (decisioning.decide.carryover_of)
    carryover_days: Annotated[int, Field(ge=0, le=90)] | Literal["auto"] = _expect(
        "a whole number of days between 0 and 90, or auto", default="auto"
    )
    total_budget: float | Literal["keep_last_period"] = _expect(
        "an amount in EUR for the period, or keep_last_period", default="keep_last_period"
    )
    target_roas: float | None = _expect(
        "a number > 0 (revenue per EUR), or null", default=None, gt=0
    )
    target_cpa: float | None = _expect(
        "a number > 0 (EUR per conversion), or null", default=None, gt=0
    )
    target_revenue: Euros | None = None
    target_conversions: float | None = _expect(
        "a number of conversions for the period (> 0), or null", default=None, gt=0
    )
    max_shift_pct: Percent = 30.0
    locked_channels: list[str] = Field(default_factory=list)
    plan_level: Literal["channel", "campaign"] = "channel"
    campaign_max_shift_pct: Percent = 30.0
    campaign_history_days: int = _expect(
        "a whole number of days between 7 and 365", default=28, ge=7, le=365
    )
    # pseudo-conversions pulling each campaign's conversion share to its spend share (its
    # channel's curve): the campaign's own data moves it only when it has more than these
    campaign_pooling_conversions: float = _expect(
        "a number of conversions >= 0", default=20.0, ge=0
    )
    channels: dict[str, ChannelBounds] = Field(default_factory=dict)
    campaigns: dict[str, ChannelBounds] = Field(default_factory=dict)

    @property
    def tail_days(self) -> int:
        """The days after the period the optimiser values: ``auto`` not yet resolved against
        the fit's experiments (:func:`marketing_ops.decisioning.decide.carryover_of`) is 0."""
        return 0 if self.carryover_days == "auto" else int(self.carryover_days)

    @field_validator("total_budget")
    @classmethod
    def _positive_total(cls, v: float | str) -> float | str:
        if isinstance(v, float | int) and v < 0:
            raise ValueError("must not be negative")
        return v

    @model_validator(mode="after")
    def _min_spend_needs_target(self) -> BudgetPolicy:
        if self.objective == "min_spend" and (
            self.target_revenue is None and self.target_conversions is None
        ):
            raise ValueError(
                "objective min_spend needs target_revenue (EUR for the period) "
                "or target_conversions"
            )
        if self.objective == "min_spend" and (
            self.target_revenue is not None and self.target_conversions is not None
        ):
            raise ValueError(
                "objective min_spend takes one target: target_revenue or target_conversions"
            )
        if self.objective == "target_roas" and self.target_roas is None:
            raise ValueError(
                "objective target_roas needs target_roas (incremental revenue per EUR, > 0)"
            )
        if self.objective == "target_cpa" and self.target_cpa is None:
            raise ValueError("objective target_cpa needs target_cpa (EUR per conversion, > 0)")
        return self


class ApprovalPolicy(_Strict):
    """Above any of these, an action waits for a named approver (in approve_above_threshold)."""

    money_moved_eur: Euros = 500.0
    audience_size: int = _expect("a whole number of contacts >= 0", default=5000, ge=0)
    min_confidence: Share = 0.5
    # A budget line that adds money waits when the share of the response-curve samples on
    # which its next euro returns less than 1 EUR is above this (null: not checked).
    max_p_marginal_roi_below_1: Share | None = None


class AutonomyPolicy(_Strict):
    """How far the agent may act alone, globally and per policy (budget, content)."""

    level: AutonomyLevel = "approve_above_threshold"
    overrides: dict[Literal["budget", "content"], AutonomyLevel] = Field(default_factory=dict)

    def level_for(self, action_type: str) -> str:
        """The stricter of the global level and the override of the action's policy."""
        policy = "budget" if action_type == "budget_allocation" else "content"
        own = self.overrides.get(policy, self.level)
        return stricter(self.level, own)


class ExplorationPolicy(_Strict):
    max_share: Share = 0.2
    min_propensity: Share = 0.02
    prior_strength: float = _expect("a number of pseudo-sends > 0", default=50.0, gt=0)


class FatiguePolicy(_Strict):
    """When an audience has seen an asset enough: soft rules, the fallback asset may ignore them."""

    min_days_between_same_asset: int = _expect(
        "a whole number of days >= 0 (0 = no rest)", default=14, ge=0
    )
    max_sends_per_contact: float | None = _expect(
        "a number of sends per consented contact (> 0), or null for no limit", default=None, gt=0
    )


class ContentPolicy(_Strict):
    allowed_channels: list[str] = Field(default_factory=lambda: ["email"])
    suppressed_audiences: list[str] = Field(default_factory=list)
    frequency_cap_per_week: int = _expect("a whole number of sends >= 0", default=2, ge=0)
    default_send_hour: int = _expect("an hour between 0 and 23", default=10, ge=0, le=23)
    cost_per_send_eur: Euros = 0.002
    exploration: ExplorationPolicy = Field(default_factory=ExplorationPolicy)
    fatigue: FatiguePolicy = Field(default_factory=FatiguePolicy)
    fallback_asset: str | None = _expect(
        "an asset id (e.g. A001), or null to hold when nothing qualifies", default=None
    )


class RegulatedClaimsPolicy(_Strict):
    allowed: bool = True
    excluded_audiences: list[str] = Field(default_factory=list)
    need_approval: bool = True


class CompliancePolicy(_Strict):
    """Brand safety and compliance: checked on every candidate before anything is chosen."""

    require_compliance_approved: bool = True
    require_brand_safe: bool = True
    regulated_claims: RegulatedClaimsPolicy = Field(default_factory=RegulatedClaimsPolicy)
    blocked_topics: list[str] = Field(default_factory=list)
    blocked_terms: list[str] = Field(default_factory=list)


class Approver(_Strict):
    name: str = _expect("a person's name", min_length=1)
    may_approve: list[
        Literal["budget_allocation", "content_selection", "send_time", "incrementality_test", "*"]
    ] = _expect(
        "a list of action types: budget_allocation, content_selection, send_time, "
        "incrementality_test or *"
    )

    def may(self, action_type: str | None) -> bool:
        """Unknown action type: only someone who may approve everything may approve it."""
        return "*" in self.may_approve or (
            action_type is not None and action_type in self.may_approve
        )


class TestingPolicy(_Strict):
    """Incrementality tests the agent may propose (marketing_ops.experiments)."""

    enabled: bool = False
    # held by all tests running at once, proposed ones included (EUR): a holdout's expected
    # profit forgone, a spend-up's whole added spend (experiments.governance.at_stake)
    budget_eur: Euros = 0.0
    # a test whose expected cost is above this waits for a named approver
    approval_above_eur: Euros = 0.0
    # every test waits for a named approver, whatever its expected cost (a test the model
    # prices as paying for itself included: that price is the belief the test checks)
    every_test_waits_for_approval: bool = True
    # a spend-up test adds this share of the planned spend in its treated geos / on flights
    spend_up_share: Share = 0.3
    min_power: Share = 0.5
    # a test whose answer is worth at most this (EUR of value of information) is a budget
    # move, not a test: refused whatever its price (negative: none refused on this)
    min_value_of_information_eur: float = 0.0
    # nor one worth less than this share of the spend it moves (added by a spend-up, not
    # spent by a holdout): 1 cent per EUR. A 1.5 M EUR spend-up "worth 0 EUR to learn" passed
    # the rule above on floating-point noise; what such a move earns is the budget's business
    min_value_share_of_spend: Share = 0.01
    min_net_value_eur: float = 0.0
    # a test's cost priced pessimistically at this quantile of the channel's posterior
    # response: a holdout forgoes the upper quantile of its lift, a spend-up buys the lower
    # (1 - q). At the mean, a holdout of a channel the model underrates is priced on the very
    # error it finds (benchmark world 1: 13,799 EUR priced, 2.04 M forgone)
    cost_quantile: float = _expect(
        "a quantile from 0.5 up to (not including) 1", default=0.9, ge=0.5, lt=1
    )
    min_weeks: int = _expect("a whole number of weeks between 1 and 26", default=2, ge=1, le=26)
    max_weeks: int = _expect("a whole number of weeks between 1 and 26", default=8, ge=1, le=26)
    max_concurrent: int = _expect("a whole number of tests >= 0", default=2, ge=0)
    # a geo test is read on for this many weeks after it ends: the carry-over its spend change
    # left, a calibration row of its own that pins the channel's decay (budget.carryover_days
    # counts on a measured decay); its geos stay reserved until then. 0: its own weeks only
    tail_weeks: int = _expect("a whole number of weeks between 0 and 26", default=0, ge=0, le=26)
    channels: list[str] = Field(default_factory=list)  # empty: every channel of the model
    locked_geos: list[str] = Field(default_factory=list)  # never held out


class RolesPolicy(_Strict):
    approvers: list[Approver] = Field(default_factory=list)

    def find(self, name: str) -> Approver | None:
        return next((a for a in self.approvers if a.name == name), None)


SECTIONS: dict[str, type[BaseModel]] = {
    "budget": BudgetPolicy,
    "approvals": ApprovalPolicy,
    "autonomy": AutonomyPolicy,
    "content": ContentPolicy,
    "compliance": CompliancePolicy,
    "roles": RolesPolicy,
    "testing": TestingPolicy,
}
# Sections added after homes existed: a missing file means the defaults, and the defaults
# leave the policy version unchanged (recorded batches keep replaying under their version).
OPTIONAL_SECTIONS: tuple[str, ...] = ("testing",)
POLICY_FILES: tuple[str, ...] = tuple(f"{s}.yaml" for s in SECTIONS)


class PolicyError(ValueError):
    """A policy file is missing or says something we cannot act on."""


class PolicySet(_Strict):
    budget: BudgetPolicy
    approvals: ApprovalPolicy
    autonomy: AutonomyPolicy
    content: ContentPolicy
    compliance: CompliancePolicy
    roles: RolesPolicy
    version: str
    testing: TestingPolicy = Field(default_factory=TestingPolicy)


def stricter(a: str, b: str) -> str:
    """The less autonomous of two levels."""
    return a if AUTONOMY_LEVELS.index(a) <= AUTONOMY_LEVELS.index(b) else b


def _field_info(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> Any:
    """Walk an error location down the models to the field it names (None when lost)."""
    info = None
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            # dict keys and list indexes: keep the current field, descend into its model
            continue
        info = model.model_fields[part]
        model = _inner_model(info.annotation)
    return info, model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _expected_form(section_model: type[BaseModel], err: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        _, parent = _field_info(section_model, loc[:-1])
        parent = parent or section_model
        return "no such setting; expected one of " + ", ".join(parent.model_fields)
    info, _ = _field_info(section_model, loc)
    extra = getattr(info, "json_schema_extra", None) or {}
    if isinstance(extra, dict) and "expected" in extra:
        return f"expected {extra['expected']}"
    if kind == "literal_error":
        return f"expected one of {err['ctx']['expected']}"
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type"}:
        return "expected a number"
    if kind in {"bool_parsing", "bool_type"}:
        return "expected true or false"
    if kind == "list_type":
        return "expected a list"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "expected a mapping of settings"
    return f"expected {err['msg'][0].lower()}{err['msg'][1:]}"


def _describe(path: Path, section: str, model: type[BaseModel], err: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    # Union members add their type name to the location (e.g. 'float', 'literal[...]'): drop them.
    loc = tuple(
        p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"float", "int", "str"}))
    )
    dotted = ".".join([section, *(str(p) for p in loc)])
    where = f"{path.parent.name}/{path.name}: {dotted}"
    if err["type"] == "missing":
        return f"{where}: missing; {_expected_form(model, err)}"
    if err["type"] == "extra_forbidden":
        return f"{where}: {_expected_form(model, err)}"
    if err["type"] == "value_error" and not loc:
        return f"{where}: {err['msg'].removeprefix('Value error, ')}"
    return f"{where}: {_expected_form(model, err)}, got {err.get('input')!r}"


def _load_section(path: Path, section: str) -> BaseModel:
    model = SECTIONS[section]
    if not path.exists() and section in OPTIONAL_SECTIONS:
        return model()
    if not path.exists():
        raise PolicyError(
            f"{path.parent.name}/{path.name}: missing file; expected a YAML file with a "
            f"`{section}:` section (ensure_default_policies() copies the defaults)"
        )
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path.parent.name}/{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) != {section}:
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise PolicyError(
            f"{path.parent.name}/{path.name}: expected exactly one top-level key `{section}:`, got {found}"
        )
    try:
        return model.model_validate(doc[section] or {})
    except ValidationError as exc:
        # a union field reports once per member; say it once
        messages = list(dict.fromkeys(_describe(path, section, model, e) for e in exc.errors()))
        raise PolicyError("\n".join(messages)) from exc


def load_policies(folder: Path) -> PolicySet:
    """Read and validate every policy file; the version hashes their effective content."""
    folder = Path(folder)
    unknown = (
        sorted(p.name for p in folder.glob("*.y*ml") if p.name not in POLICY_FILES)
        if folder.exists()
        else []
    )
    if unknown:
        raise PolicyError(
            f"{folder.name}/{unknown[0]}: not a policy file; expected one of {', '.join(POLICY_FILES)}"
        )
    sections = {s: _load_section(folder / f"{s}.yaml", s) for s in SECTIONS}
    canonical = json.dumps(
        {
            s: m.model_dump(mode="json")
            for s, m in sections.items()
            if not (s in OPTIONAL_SECTIONS and m == SECTIONS[s]())
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    version = hashlib.sha256(canonical.encode()).hexdigest()[:12]
    return PolicySet(**sections, version=version)


def ensure_default_policies(folder: Path) -> list[Path]:
    """Copy each default policy file that is missing; never overwrite what people wrote."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in POLICY_FILES:
        target = folder / name
        if not target.exists():
            shutil.copyfile(DEFAULT_POLICIES_DIR / name, target)
            copied.append(target)
    return copied

"""Plans: daily notification quotas and retention (DESIGN.md, "Limits, quotas and retention")."""

from __future__ import annotations

from dataclasses import dataclass

from api.settings import Settings

PLANS = ("FREE", "PRO", "BUSINESS")


@dataclass(frozen=True)
class PlanLimits:
    daily_quota: int | None  # None = unlimited
    archive_after_days: int | None  # None = never
    delete_after_days: int | None
    priority_queue: bool


def limits_for(plan: str, settings: Settings) -> PlanLimits:
    if plan == "BUSINESS":
        return PlanLimits(None, None, None, priority_queue=True)
    if plan == "PRO":
        return PlanLimits(settings.quota_pro, 30, 100, priority_queue=False)
    return PlanLimits(settings.quota_free, 7, 30, priority_queue=False)

"""Result rows, the printed table, the results JSON and the PNG chart."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    scenario: str
    metric: str
    figure: float
    unit: str
    baseline: float | None = None  # same unit, measured in this invocation
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    higher_is_better: bool = True
    ratio: float | None = field(default=None)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.figure / self.baseline


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def table(rows: list[Row]) -> str:
    head = ("scenario", "metric", "figure", "baseline", "ratio", "target", "met")
    lines = [
        [
            r.scenario,
            r.metric,
            f"{fmt(r.figure)} {r.unit}",
            f"{fmt(r.baseline)} ({r.baseline_name})" if r.baseline is not None else "-",
            f"{r.ratio:.2f}x" if r.ratio is not None else "-",
            r.target,
            {True: "yes", False: "NO", None: "-"}[r.met],
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    out = [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True))
        for line in [head, *lines]
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def write(stamp: str, rows: list[Row], details: dict, quick: bool) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    doc = {
        "timestamp": stamp,
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "rows": [asdict(r) for r in rows],
        "details": details,
    }
    path.write_text(json.dumps(doc, indent=2, default=str))
    png = RESULTS / f"{stamp}.png"
    chart(rows, details, png, quick)
    return path, png


def chart(rows: list[Row], details: dict, png: Path, quick: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [2, 1]})
    rated = [r for r in rows if r.ratio is not None]
    labels = [f"{r.scenario} {r.metric}" for r in rated]
    # Normalise so that > 1 is always "better than the baseline".
    values = [r.ratio if r.higher_is_better else 1 / r.ratio for r in rated]
    colours = ["tab:green" if r.met else "tab:red" if r.met is False else "tab:grey" for r in rated]
    ax.barh(labels, values, color=colours)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("vs baseline (>1 = better than baseline; green = target met)")
    for y, (v, r) in enumerate(zip(values, rated, strict=True)):
        ax.text(v, y, f"  {fmt(r.figure)} {r.unit}", va="center", fontsize=8)
    ax.set_title("Booper bench" + (" (--quick)" if quick else ""))
    curve = details.get("S2", {}).get("curve", [])
    if curve:
        ns = [c["n"] for c in curve]
        ax2.plot(ns, [c["us_per_delivery"] for c in curve], "o-", label="us per delivery")
        ax2.set_xscale("log")
        ax2.set_xlabel("devices on the channel")
        ax2.set_ylabel("us per delivery")
        ax3 = ax2.twinx()
        ax3.plot(
            ns,
            [c["worker_peak_rss_mib"] for c in curve],
            "s--",
            color="tab:orange",
            label="worker peak RSS (MiB)",
        )
        ax3.set_ylabel("worker peak RSS, MiB")
        ax3.set_ylim(bottom=0)
        ax2.set_ylim(bottom=0)
        ax2.set_title("S2 scale curve (Expo fan-out)")
        ax2.legend(loc="upper left", fontsize=8)
        ax3.legend(loc="lower right", fontsize=8)
    else:
        ax2.axis("off")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)

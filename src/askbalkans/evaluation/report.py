"""The evaluation report: a Markdown table, the misses, the JSON records and a plot."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from askbalkans.evaluation.metrics import Record, percentile
from askbalkans.evaluation.runner import Report

MISSES_SHOWN = 25


def markdown(report: Report) -> str:
    rows = [f"| {name} | {_format(value)} |" for name, value in report.aggregates.items()]
    return "\n".join(["| metric | value |", "| --- | --- |", *rows])


def _format(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def misses(records: list[Record]) -> list[Record]:
    return [r for r in records if (r.expected and not r.answer_hit) or (not r.expected and not r.abstained)]


def format_misses(records: list[Record], shown: int = MISSES_SHOWN) -> str:
    missed = misses(records)
    lines = [f"Misses: {len(missed)}"]
    for r in missed[:shown]:
        expected = " | ".join(r.expected) if r.expected else "(abstain)"
        got = "(abstained)" if r.abstained else r.answer
        lines.append(f"- {r.id}: {r.question}\n  expected: {expected}\n  got: {got[:300]}")
    if len(missed) > shown:
        lines.append(f"... and {len(missed) - shown} more (all are in the JSON report)")
    return "\n".join(lines)


def write_json(report: Report, source: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "source": source,
        "k": report.k,
        "aggregates": report.aggregates,
        "recall_curve": report.recall_curve,
        "records": [asdict(r) for r in report.records],
    }
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), "utf-8")


def plot(report: Report, path: Path) -> None:
    """The Recall@k curve and the latency histogram, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (recall_axes, latency_axes) = plt.subplots(1, 2, figsize=(10, 4))
    depths = list(report.recall_curve)
    recall_axes.plot(depths, [report.recall_curve[d] for d in depths], marker="o")
    recall_axes.set(xlabel="k (passages)", ylabel="document Recall@k", title="Retrieval", ylim=(0, 1.02), xticks=depths)
    recall_axes.grid(alpha=0.3)
    latencies = [r.latency_ms for r in report.records]
    # A few slow outliers would squeeze the bulk into one bar: show up to 1.5 x p99 and name the maximum.
    latency_axes.hist(latencies, bins=40, range=(0, 1.5 * percentile(latencies, 0.99)))
    latency_axes.set(
        xlabel="latency per question (ms, warm)", ylabel="questions", title=f"Latency (max {max(latencies):.0f} ms)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

"""The eval suite's report: Markdown with a per-question table, a PNG chart, and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .evaluation import METRICS

LABELS = {
    "hit_at_5": "hit@5",
    "mrr": "MRR",
    "page_hit": "page hit@5",
    "context_precision": "context precision",
    "citation_precision": "citation precision",
    "support_rate": "support rate",
    "exact_quote_rate": "exact-quote rate",
    "key_point_recall": "key-point recall",
    "refusal_accuracy": "refusal accuracy",
    "false_refusal_rate": "false refusals",
    "judge_faithfulness": "LLM judge: faithfulness",
    "judge_relevancy": "LLM judge: relevancy",
}


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown(results: dict[str, Any], chart: str | None) -> str:
    configs = {results["configuration"]: results, **results["baselines"]}
    lines = [
        "# Eval report",
        "",
        f"{results['questions']} questions over {results['documents']} documents "
        f"({results['chunks']} chunks). Configuration under test: **{results['configuration']}**;"
        " the others are baselines through the same composer.",
        "",
        "| metric | " + " | ".join(configs) + " |",
        "|---|" + "---|" * len(configs),
    ]
    for metric in METRICS:
        lines.append(
            f"| {LABELS[metric]} | "
            + " | ".join(_fmt(c.get(metric)) for c in configs.values())
            + " |"
        )
    latency = results["latency_ms"]
    lines += [
        "",
        "Latency (ms), "
        + results["configuration"]
        + ": "
        + ", ".join(f"{stage} p50 {v['p50']} / p95 {v['p95']}" for stage, v in latency.items()),
    ]
    if chart:
        lines += ["", f"![metrics per configuration]({chart})"]
    split_metrics = ("mrr", "citation_precision", "key_point_recall", "refusal_accuracy")
    lines += [
        "",
        "## Tuning and held-out questions",
        "",
        "The weights were set while watching the tuning questions; the held-out ones were "
        "written afterwards and never tuned on. A gap between the two is overfitting.",
        "",
        "| split | n | configuration | " + " | ".join(LABELS[m] for m in split_metrics) + " |",
        "|---|---|---|" + "---|" * len(split_metrics),
    ]
    for split, by_config in results.get("per_split", {}).items():
        for name, s in by_config.items():
            lines.append(
                f"| {split} | {s['questions']} | {name} | "
                + " | ".join(_fmt(s.get(m)) for m in split_metrics)
                + " |"
            )
    lines += [
        "",
        "## Per kind of question",
        "",
        "| kind | n | hit@5 | MRR | key-point recall | refusal accuracy | false refusals |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, s in results["per_kind"].items():
        lines.append(
            f"| {kind} | {s['questions']} | {_fmt(s['hit_at_5'])} | {_fmt(s['mrr'])} | "
            f"{_fmt(s['key_point_recall'])} | {_fmt(s['refusal_accuracy'])} | "
            f"{_fmt(s['false_refusal_rate'])} |"
        )
    lines += [
        "",
        "## Per question",
        "",
        "| id | kind | split | hit | MRR | key points found | refused |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["per_question"]:
        points = row.get("key_points", [])
        found = (
            ", ".join(
                f"{p['point']} ({p['matched']})" if p["matched"] else f"~~{p['point']}~~"
                for p in points
            )
            or "-"
        )
        lines.append(
            f"| {row['id']} | {row['kind']} | {row.get('split', '-')} | "
            f"{_fmt(row.get('hit_at_5'))} | "
            f"{_fmt(row.get('mrr'))} | {found.replace('|', '/')} | "
            f"{'yes' if row['refused'] else 'no'} |"
        )
    lines += [
        "",
        "Key points struck through were not found; the others say how they matched "
        "(text, or meaning with its cosine).",
    ]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = {results["configuration"]: results, **results["baselines"]}
    metrics = [m for m in METRICS if any(c.get(m) is not None for c in configs.values())]
    fig, ax = plt.subplots(figsize=(11, 4.8), dpi=110)
    width = 0.8 / len(configs)
    for i, (name, values) in enumerate(configs.items()):
        xs = [j + i * width for j in range(len(metrics))]
        ax.bar(xs, [values.get(m) or 0 for m in metrics], width, label=name)
    ax.set_xticks([j + width * (len(configs) - 1) / 2 for j in range(len(metrics))])
    ax.set_xticklabels([LABELS[m] for m in metrics], rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("Eval metrics per configuration")
    ax.legend(fontsize=8, ncol=len(configs), loc="upper center", bbox_to_anchor=(0.5, -0.32))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(results: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Writes latest.md, latest.json and latest.png into the folder; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": folder / "latest.md",
        "json": folder / "latest.json",
        "chart": folder / "latest.png",
    }
    chart(results, paths["chart"])
    paths["markdown"].write_text(markdown(results, paths["chart"].name), encoding="utf-8")
    paths["json"].write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return paths

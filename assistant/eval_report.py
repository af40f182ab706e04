"""The eval suite's report: one Markdown page and JSON file per set, a summary of every set
side by side with its baselines, and a chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .evaluation import METRICS

LABELS = {
    "answered_correctly": "answered correctly",
    "evidence_quoted": "evidence quoted",
    "refusal_accuracy": "refusal accuracy",
    "false_refusal_rate": "false refusals",
    "citation_precision": "citation precision",
    "key_point_recall": "key-point recall",
    "answer_recall": "expected-answer recall",
    "hit_at_5": "hit@5",
    "mrr": "MRR",
    "page_hit": "page hit@5",
    "answer_words": "words per answer",
    "support_rate": "support rate",
    "exact_quote_rate": "exact-quote rate",
    "dangling_claims": "claims leaning on nothing, per answer",
    "fragment_claims": "fragments, per answer",
    "joins_documents": "answers joining documents",
    "judge_faithfulness": "LLM judge: faithfulness",
    "judge_relevancy": "LLM judge: relevancy",
}
HEADLINE = (
    "answered_correctly",
    "evidence_quoted",
    "refusal_accuracy",
    "false_refusal_rate",
    "citation_precision",
)


def _fmt(value: Any, metric: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if metric == "answer_words" else f"{value:.2f}"


def _table(columns: dict[str, dict[str, Any]], metrics=METRICS) -> list[str]:
    shown = [m for m in metrics if any(c.get(m) is not None for c in columns.values())]
    lines = ["| metric | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for metric in shown:
        cells = " | ".join(_fmt(c.get(metric), metric) for c in columns.values())
        lines.append(f"| {LABELS[metric]} | {cells} |")
    return lines


def _reliability(rows: list[dict[str, Any]]) -> list[str]:
    """How often this run's answers were right in each band of P that answers show (the
    shipped table, measured on questions the shipped selector never saw), beside the table."""
    from .reliability import shipped, tally
    from .selector import SelectorError, default_selector

    try:
        table = shipped(default_selector().fingerprint)
    except SelectorError:
        return []
    if table is None or not any(r.get("confidence") is not None for r in rows):
        return []
    lines = [
        "",
        "## How often answers were right, by the bands of P that answers show",
        "",
        f"The bands and their figures were measured on {table.measured_on}, with the shipped "
        "selector.",
        "",
        "| P | this run: right / answers | share | measured: right / answers | share |",
        "|---|---|---|---|---|",
    ]
    for here, there in zip(tally(rows, table.bands), table.bands, strict=True):
        lines.append(
            f"| {here.low:.2f} to {min(here.high, 1.0):.2f} | {here.right} / {here.answers} | "
            f"{_fmt(here.right / here.answers if here.answers else None)} | "
            f"{there.right} / {there.answers} | {_fmt(there.right / there.answers)} |"
        )
    return lines


def set_markdown(result: dict[str, Any], chart: str | None = None) -> str:
    """One set's report: every metric per configuration, per split, per kind, per question."""
    configs = result["configs"]
    first = next(iter(configs))
    lines = [
        f"# Eval report: {result['set']}",
        "",
        f"{result['questions']} questions over {result['documents']} documents "
        f"({result['chunks']} chunks). **{first}** is the configuration under test; the others "
        "are baselines (dense or lexical search alone through the same composer; `plain`, a "
        "plain LangChain pipeline answering with its top chunks, which cannot refuse).",
        "",
        *_table({c: v["overall"] for c, v in configs.items()}),
    ]
    latency = configs[first]["overall"]["latency_ms"]
    if latency:
        lines += [
            "",
            f"Latency (ms), {first}: "
            + ", ".join(f"{s} p50 {v['p50']} / p95 {v['p95']}" for s, v in latency.items()),
        ]
    if chart:
        lines += ["", f"![headline metrics per configuration]({chart})"]
    splits = configs[first]["per_split"]
    if len(splits) > 1 or "test" in splits:
        lines += ["", "## Per split", ""]
        lines.append(
            "The `test` questions are never tuned on; the gap to `tuning` shows how far "
            "tuning overfits."
        )
        for split in splits:
            lines += ["", f"### {split}", ""]
            lines += _table(
                {c: v["per_split"].get(split, {}) for c, v in configs.items()}, HEADLINE
            )
    pairs = {c: v["context_pairs"] for c, v in configs.items() if v.get("context_pairs")}
    if pairs:
        lines += [
            "",
            "## Asked with the asker's own situation first",
            "",
            "| configuration | pairs | right with the situation | right without it |",
            "|---|---|---|---|",
        ]
        for c, p in pairs.items():
            lines.append(
                f"| {c} | {p['pairs']} | {_fmt(p['with_context'])} | {_fmt(p['without_context'])} |"
            )
    lines += _reliability(result["per_question"])
    lines += [
        "",
        f"## Per kind of question ({first})",
        "",
        "| kind | n | " + " | ".join(LABELS[m] for m in HEADLINE) + " |",
        "|---|---|" + "---|" * len(HEADLINE),
    ]
    for kind, s in configs[first]["per_kind"].items():
        lines.append(
            f"| {kind} | {s['questions']} | "
            + " | ".join(_fmt(s.get(m), m) for m in HEADLINE)
            + " |"
        )
    lines += [
        "",
        f"## Per question ({first})",
        "",
        "| id | split | answerable | refused | correct | evidence quoted | terms found |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["per_question"]:
        points = row.get("key_points", [])
        found = ", ".join(
            p["point"] if p["matched"] else f"~~{p['point']}~~" for p in points
        ).replace("|", "/")
        lines.append(
            f"| {row['id']} | {row['split']} | {'yes' if row['answerable'] else 'no'} | "
            f"{'yes' if row['refused'] else 'no'} | {_fmt(row.get('answered_correctly'))} | "
            f"{_fmt(row.get('evidence_quoted'))} | {found or '-'} |"
        )
    return "\n".join(lines) + "\n"


def summary_markdown(results: dict[str, dict[str, Any]], chart: str | None = None) -> str:
    """Every set side by side: the headline metrics of each configuration."""
    lines = ["# Eval summary", ""]
    for name, result in results.items():
        configs = result["configs"]
        lines += [
            f"## {name}: {result['questions']} questions, {result['documents']} documents",
            "",
        ]
        for split, label in (("test", "test part (never tuned on)"), (None, "all questions")):
            if split and split not in next(iter(configs.values()))["per_split"]:
                continue
            columns = {
                c: (v["per_split"].get(split, {}) if split else v["overall"])
                for c, v in configs.items()
            }
            lines += [f"{label}:", "", *_table(columns, HEADLINE), ""]
    if chart:
        lines += [f"![headline metrics per set and configuration]({chart})", ""]
    return "\n".join(lines)


def chart(results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(results), figsize=(4.2 * len(results) + 1, 4.6), dpi=110, squeeze=False
    )
    for ax, (name, result) in zip(axes[0], results.items(), strict=True):
        configs = result["configs"]
        width = 0.8 / len(configs)
        for i, (config, values) in enumerate(configs.items()):
            split = values["per_split"].get("test") or values["overall"]
            xs = [j + i * width for j in range(len(HEADLINE))]
            ax.bar(xs, [split.get(m) or 0 for m in HEADLINE], width, label=config)
        ax.set_xticks([j + width * (len(configs) - 1) / 2 for j in range(len(HEADLINE))])
        ax.set_xticklabels([LABELS[m] for m in HEADLINE], rotation=30, ha="right", fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(results: dict[str, dict[str, Any]], folder: Path) -> dict[str, Path]:
    """Writes SET.md and SET.json per set, and latest.md and latest.png over all of them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": folder / "latest.md", "chart": folder / "latest.png"}
    chart(results, paths["chart"])
    paths["markdown"].write_text(summary_markdown(results, paths["chart"].name), encoding="utf-8")
    for name, result in results.items():
        (folder / f"{name}.md").write_text(set_markdown(result), encoding="utf-8")
        (folder / f"{name}.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        paths[name] = folder / f"{name}.md"
    return paths

"""The eval of briefing notes and comparisons (evals/drafts.yaml): each case drafted over its
set's corpus and scored for the sides it covers, the key points it states, whether every
evidence sentence is cited and checked, and whether it says so where the documents are silent.

Metrics, per case, then averaged per set and split:
- side_coverage: of the jurisdictions (briefs) or rows (comparisons) expected to hold evidence,
  the share the draft gives evidence for.
- side_precision (briefs): of the jurisdictions the draft gives evidence for, the share
  expected to hold some; the rest are sides filled from documents that do not address it.
- key_point_recall: the share of key points the draft states, by text as whole words and
  figures, as the answer eval finds answer terms (any alternative; for a comparison, each in
  its own row).
- absent_right: of the sides the documents are silent on, the share the draft reports as not
  found (across documents: a row that finds nothing, or the document listed among those not
  compared, which the draft does not fill).
- uncovered_right: a topic no document covers gets the short note saying so (1) or not (0).
- support_rate: the share of evidence sentences whose every citation names a source whose
  quotes stand, checked, in the stored passage.
- unsupported: evidence sentences failing that (target 0).
- words: the words of evidence a draft gives (its length, which recall rises with).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .chain import Assistant
from .citations import MARKER
from .config import Settings
from .drafting import Briefing, Comparison, Side
from .evaluation import eval_settings, figures_for_words, holds_term
from .ingest import Ingester

METRICS = (
    "side_coverage",
    "side_precision",
    "key_point_recall",
    "absent_right",
    "uncovered_right",
    "support_rate",
    "unsupported",
    "words",
)
KINDS = ("brief", "comparison")


class DraftCaseError(ValueError):
    """A case file that cannot be used; str() names the file, the case and the field."""


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    set: str
    split: str
    ask: str
    across: str
    sides: dict[str, tuple[tuple[str, ...], ...]]
    """Expected side -> its key points (each a tuple of alternatives). A brief's key points
    are under the side "" (the whole note) and its jurisdictions have none of their own."""
    absent: tuple[str, ...]
    uncovered: bool


def _points(raw: Any, where: str) -> tuple[tuple[str, ...], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise DraftCaseError(f"{where}: key points must be a list")
    return tuple(tuple(str(a) for a in p) if isinstance(p, list) else (str(p),) for p in raw)


def load_cases(path: Path) -> list[Case]:
    """The briefs and comparisons of a case file, checked."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise DraftCaseError(f"{path}: cannot be read as YAML: {err}") from err
    cases, seen = [], set()
    for section, kind in (("briefs", "brief"), ("comparisons", "comparison")):
        for i, entry in enumerate(data.get(section) or []):
            where = f"{path}: {section} entry {i + 1}"
            if not isinstance(entry, dict) or not entry.get("id"):
                raise DraftCaseError(f"{where}: needs an id")
            where = f"{path}: {entry['id']}"
            if entry["id"] in seen:
                raise DraftCaseError(f"{where}: the id is used twice")
            seen.add(entry["id"])
            ask = entry.get("topic" if kind == "brief" else "question")
            if not ask:
                raise DraftCaseError(
                    f"{where}: needs a {'topic' if kind == 'brief' else 'question'}"
                )
            if kind == "brief":
                sides = {str(j): () for j in entry.get("jurisdictions") or []}
                sides[""] = _points(entry.get("key_points"), where)
            else:
                rows = entry.get("rows") or {}
                if not isinstance(rows, dict):
                    raise DraftCaseError(f"{where}: rows must map a side to its key points")
                sides = {str(k): _points(v, f"{where} row {k}") for k, v in rows.items()}
            cases.append(
                Case(
                    str(entry["id"]),
                    kind,
                    str(entry.get("set", "")),
                    str(entry.get("split", "tuning" if entry.get("set") == "starter" else "")),
                    str(ask),
                    str(entry.get("across", "jurisdiction")),
                    sides,
                    tuple(str(a) for a in entry.get("absent") or []),
                    bool(entry.get("uncovered", False)),
                )
            )
    return cases


def _fold(text: str) -> str:
    return figures_for_words(MARKER.sub(" ", text))


def _stated(alternatives: tuple[str, ...], text: str) -> bool:
    """Whether the text states a key point (any of its alternatives) as the answer eval finds
    an answer term: as whole words and figures ("50 indicators" is not in "150 indicators",
    "73%" not in "173%"), in any case, quote mark, dash or form of a figure."""
    folded = _fold(text)
    return any(holds_term(folded, _fold(a)) for a in alternatives)


def _support(assistant: Assistant, draft: Briefing | Comparison, sides: list[Side]):
    """(claims, unsupported claims) over the evidence sentences of `sides`."""
    stored = {
        c.chunk_id: c.text
        for c in assistant.retriever.store.get([s.chunk_id for s in draft.sources])
    }
    good = {
        s.n
        for s in draft.sources
        if s.citations
        and all(c.supported and c.quote in stored.get(s.chunk_id, "") for c in s.citations)
    }
    claims = [c for side in sides for c in side.claims]
    bad = [
        c
        for c in claims
        if not MARKER.findall(c) or any(int(n) not in good for n in MARKER.findall(c))
    ]
    return len(claims), bad


def _side_key(side: Side, files: dict[str, str]) -> str:
    """A side as the cases name it: the jurisdiction, or the document's file name."""
    return files.get(side.key, side.name)


def _reported_absent(assistant: Assistant, draft: Comparison, files: dict[str, str]) -> set[str]:
    """The file names of the documents a comparison lists as not compared (its other documents
    in scope, whose passages ranked lower: nothing of theirs is put forward as evidence).
    The draft names them by title, so each title is taken back to its documents' files (two
    documents of one title are both counted; the draft's document ids would settle it)."""
    return {
        files.get(r.doc_id, Path(r.source).name)
        for r in assistant.documents()
        if r.title in draft.elsewhere
    }


def score(assistant: Assistant, case: Case, files: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    row: dict[str, Any] = {"id": case.id, "kind": case.kind, "set": case.set, "split": case.split}
    if case.kind == "brief":
        draft: Briefing | Comparison = assistant.brief(case.ask)
        sides = draft.sides + draft.aspects
        row["covered"] = draft.covered
        found = {s.name for s in draft.sides if s.found}
        text = "\n".join(s.text for s in sides)
        if case.uncovered:
            row["uncovered_right"] = float(not draft.covered)
        else:
            wanted = [j for j in case.sides if j]
            if wanted:
                row["side_coverage"] = sum(j in found for j in wanted) / len(wanted)
            if found:
                row["side_precision"] = sum(j in wanted for j in found) / len(found)
            points = case.sides.get("", ())
            if points:
                row["missed"] = [p[0] for p in points if not _stated(p, text)]
                row["key_point_recall"] = 1 - len(row["missed"]) / len(points)
        absent_right = sum(not s.found for s in draft.sides if s.name in case.absent)
    else:
        draft = assistant.compare(case.ask, across=case.across)
        sides = draft.sides
        by_key = {_side_key(s, files): s for s in draft.sides}
        wanted = list(case.sides)
        if wanted:
            row["side_coverage"] = sum(k in by_key and by_key[k].found for k in wanted) / len(
                wanted
            )
        points = [(k, p) for k, ps in case.sides.items() for p in ps]
        if points:
            row["missed"] = [
                f"{k}: {p[0]}"
                for k, p in points
                if not (k in by_key and _stated(p, by_key[k].text))
            ]
            row["key_point_recall"] = 1 - len(row["missed"]) / len(points)
        # A document is reported as silent by a row that finds nothing, or, with no row, by
        # being listed among the documents not compared.
        reported = _reported_absent(assistant, draft, files) if case.absent else set()
        absent_right = sum(
            not by_key[k].found if k in by_key else k in reported for k in case.absent
        )
    if case.absent:
        row["absent_right"] = absent_right / len(case.absent)
    claims, bad = _support(assistant, draft, sides)
    row["claims"] = claims
    row["words"] = sum(len(MARKER.sub("", side.text).split()) for side in sides)
    row["unsupported"] = len(bad)
    if claims:
        row["support_rate"] = 1 - len(bad) / claims
    row["unsupported_claims"] = bad[:3]
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": len(rows)}
    for metric in METRICS:
        values = [r[metric] for r in rows if r.get(metric) is not None]
        if metric == "unsupported":
            out[metric] = sum(values)
        else:
            out[metric] = round(sum(values) / len(values), 3) if values else None
    return out


def run(
    settings: Settings,
    cases: list[Case],
    corpora: dict[str, Path],
    split: str | None = None,
) -> dict[str, Any]:
    """Drafts every case over its set's corpus (each corpus in its own eval index)."""
    results: dict[str, Any] = {}
    for name, corpus in corpora.items():
        chosen = [c for c in cases if c.set == name and (not split or c.split == split)]
        if not chosen:
            continue
        own = eval_settings(settings, corpus)
        report = Ingester(own).ingest([corpus])
        if report.failed:
            raise RuntimeError("; ".join(str(f) for f in report.failed))
        assistant = Assistant(own)
        files = {r.doc_id: Path(r.source).name for r in assistant.documents()}
        rows = [score(assistant, case, files) for case in chosen]
        results[name] = {
            "overall": summarise(rows),
            "per_split": {
                s: summarise([r for r in rows if r["split"] == s])
                for s in sorted({r["split"] for r in rows}, reverse=True)
            },
            "per_kind": {k: summarise([r for r in rows if r["kind"] == k]) for k in KINDS},
            "per_case": rows,
        }
    return results


def check(results: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Each metric that misses its threshold (thresholds.yaml, `drafts:`), as a line."""
    failures = []
    for name, limits in (thresholds.get("drafts") or {}).items():
        if name not in results:
            continue
        groups = [("", results[name]["overall"], limits)]
        groups += [
            (f" ({kind})", results[name]["per_kind"][kind], limits.get(kind) or {})
            for kind in KINDS
        ]
        for label, scores, bounds in groups:
            for metric, low in (bounds.get("minimum") or {}).items():
                value = scores.get(metric)
                if value is not None and value < low:
                    failures.append(f"drafts {name}{label}: {metric} {value} is under {low}")
            for metric, high in (bounds.get("maximum") or {}).items():
                value = scores.get(metric)
                if value is not None and value > high:
                    failures.append(f"drafts {name}{label}: {metric} {value} is over {high}")
    return failures


def markdown(results: dict[str, Any]) -> str:
    """The report: per set, overall and per kind and split, then each case."""
    lines = ["# Briefing and comparison eval", ""]
    header = "| | cases | " + " | ".join(m.replace("_", " ") for m in METRICS) + " |"
    rule = "|---" * (len(METRICS) + 2) + "|"
    for name, result in results.items():
        lines += [f"## {name}", "", header, rule]
        groups = [("all", result["overall"])]
        groups += [(k, v) for k, v in result["per_kind"].items() if v["cases"]]
        groups += [(f"split: {k}", v) for k, v in result["per_split"].items()]
        for label, scores in groups:
            cells = ["-" if scores[m] is None else str(scores[m]) for m in METRICS]
            lines.append(f"| {label} | {scores['cases']} | " + " | ".join(cells) + " |")
        lines += ["", "| case | split | " + " | ".join(METRICS) + " | missed |", rule + "---|"]
        for row in result["per_case"]:
            cells = [
                "-" if row.get(m) is None else f"{row[m]:.2f}".rstrip("0").rstrip(".")
                for m in METRICS
            ]
            missed = "; ".join(row.get("missed", [])).replace("|", "/")
            lines.append(
                f"| {row['id']} | {row['split']} | " + " | ".join(cells) + f" | {missed} |"
            )
        lines.append("")
    return "\n".join(lines)

"""The command line: `assistant ingest`, `status`, `remove`. Every command is also a Python call."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from .config import get_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_HISTORY_BYTES = 1_000_000  # a conversation file larger than this is refused unread
# Control characters other than newline and tab: a document's text could carry terminal
# escape sequences (one writes the clipboard), so none reaches the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """The text with every control character but newline and tab removed."""
    return _CONTROL.sub("", text)


def say(text: str = "", file=None, flush: bool = False) -> None:
    """Prints text that may hold a document's words, made safe for a terminal."""
    print(printable(text), file=file or sys.stdout, flush=flush)


class UsageError(Exception):
    """Bad input on the command line or in a file it names; str() says which and why."""


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    say(f"error: {message}", file=sys.stderr)
    return code


def _display(source: str) -> str:
    """A source as the user would type it: relative when it lies under the current folder."""
    relative = os.path.relpath(source)
    return source if relative.startswith("..") else relative


def cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import Ingester, RebuildRefused

    settings = get_settings()
    if args.json or args.quiet:
        settings = settings.model_copy(update={"progress": False})
    # A kill should stop as cleanly as Ctrl-C: committed documents stay, the rest is redone.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        log = (
            (
                lambda action, source: say(
                    f"{action}: {_display(source)}", file=sys.stderr, flush=True
                )
            )
            if args.verbose
            else None
        )
        report = Ingester(settings, on_commit=log).ingest(
            args.paths, prune=args.prune, rebuild=args.rebuild
        )
    except KeyboardInterrupt:
        return _fail(
            "interrupted: documents already committed are kept; run the same command again "
            "to finish",
            EXIT_INTERRUPTED,
        )
    except RebuildRefused as err:
        raise UsageError(str(err)) from err
    if args.json:
        say(json.dumps(report.to_dict(), indent=2))
    else:
        for skip in report.skipped:
            say(f"skipped: {_display(skip.source)}: {skip.reason}", file=sys.stderr)
        for warning in report.warnings:
            say(f"warning: {_display(warning.source)}: {warning.reason}", file=sys.stderr)
        for failure in report.failed:
            say(f"failed: {_display(failure.source)}: {failure.reason}", file=sys.stderr)
        say(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_status(args: argparse.Namespace) -> int:
    from .ingest import open_store

    store = open_store(get_settings())
    records = store.documents()
    if args.json:
        say(
            json.dumps(
                {
                    "location": store.location,
                    # The committed chunks, as the text says: an ingest stopped mid-document
                    # leaves rows that no document commits until the next one deletes them.
                    "chunks": sum(r.chunks for r in records),
                    "documents": [r.to_dict() for r in records],
                },
                indent=2,
            )
        )
        return EXIT_OK
    if not records:
        say(f"The index at {store.location} holds no documents: run `assistant ingest corpus/`.")
        return EXIT_OK
    say(f"{len(records)} documents, {sum(r.chunks for r in records)} chunks in {store.location}")
    for r in records:
        say(
            f"\n{r.title}\n  id {r.doc_id}  {r.pages} pages, {r.chunks} chunks, "
            f"ingested {r.ingested_at}\n  source {_display(r.source)}\n  sha256 {r.content_hash}"
        )
        fields = {
            k: v for k, v in r.meta.items() if k in ("jurisdiction", "kind", "publisher", "year")
        }
        if fields:
            say("  " + ", ".join(f"{k}: {v}" for k, v in fields.items()))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from .ingest import Ingester, open_store

    settings = get_settings()
    try:
        record = Ingester(settings, store=open_store(settings)).remove(args.document)
    except LookupError as err:
        return _fail(str(err.args[0]))
    say(f"removed {record.title} ({record.doc_id}, {_display(record.source)})")
    return EXIT_OK


def cmd_corpus_build(args: argparse.Namespace) -> int:
    from .corpus_build import build_corpus

    built = build_corpus(args.corpus)
    for pdf, pages in built:
        say(f"built {_display(str(pdf))} ({pages} pages)")
    say(f"{len(built)} documents, {sum(p for _, p in built)} pages")
    return EXIT_OK


def cmd_corpus_fetch(args: argparse.Namespace) -> int:
    from .fetch import fetch_official
    from .ingest import Ingester

    settings = get_settings().model_copy(update={"progress": False})
    results = fetch_official(args.corpus, settings.max_file_bytes, settings.fetch_timeout_s)
    for result in results:
        say(str(result), file=sys.stdout if result.ok else sys.stderr)
    fetched = [r.path for r in results if r.ok]
    say(f"{len(fetched)} of {len(results)} official documents fetched")
    if fetched:
        report = Ingester(settings).ingest(fetched)
        for failure in report.failed:
            say(f"failed: {_display(failure.source)}: {failure.reason}", file=sys.stderr)
        say(report.summary())
        if not report.ok:
            return EXIT_FAILED
    return EXIT_OK if len(fetched) == len(results) else EXIT_FAILED


def _load_history(path: Path | None) -> list[dict[str, str]]:
    """Reads a conversation file: a JSON list of {"role": "user"|"assistant", "content": ...}."""
    if path is None:
        return []
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_HISTORY_BYTES + 1)
    except OSError as err:
        raise UsageError(f"{path}: cannot be read: {err.strerror or err}") from err
    if len(data) > MAX_HISTORY_BYTES:
        raise UsageError(f"{path}: is larger than {MAX_HISTORY_BYTES:,} bytes")
    try:
        turns = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: is not valid JSON: {err}") from err
    except RecursionError as err:
        raise UsageError(f"{path}: is nested too deeply to be a conversation") from err
    if not isinstance(turns, list) or not all(
        isinstance(t, dict)
        and t.get("role") in ("user", "assistant")
        and isinstance(t.get("content"), str)
        for t in turns
    ):
        raise UsageError(
            f'{path}: must be a JSON list of {{"role": "user" or "assistant", "content": "..."}}'
        )
    return turns


def _filters(pairs: list[str] | None) -> dict[str, list[str]]:
    from .retrieval import parse_filters

    try:
        return parse_filters(pairs or [])
    except ValueError as err:
        raise UsageError(str(err)) from err


def _render(answer) -> str:
    """An answer as a person reads it in a terminal: the text, then its sources."""
    from .models import QUOTE_CHECK, QUOTE_CHECK_MEANING

    lines = [answer.answer, ""]
    if answer.strength:
        lines.append(f"Evidence: {answer.evidence()}")
    if answer.citations:
        lines.append("Sources:")
        seen = set()
        for c in answer.citations:
            if (c.n, c.quote) in seen:
                continue
            seen.add((c.n, c.quote))
            section = f", {c.section}" if c.section else ""
            origin = f" ({c.provenance})" if c.provenance else ""
            mark = QUOTE_CHECK if c.supported else "QUOTE NOT FOUND IN THE PASSAGE"
            lines.append(f"  [{c.n}] {c.title}{origin}, {c.where}{section} ({mark})")
            lines.append(f"      \u201c{c.quote}\u201d")
        lines.append(QUOTE_CHECK_MEANING)
    elif answer.passages:
        lines.append("Nearest passages:")
        for p in answer.passages[:3]:
            lines.append(f"  [{p.n}] {p.title}, {p.pages}: {p.text[:160].strip()}...")
    for note in answer.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from .chain import Assistant

    history = _load_history(args.history)
    filters = _filters(args.filter)
    assistant = Assistant(get_settings())
    answer = assistant.ask(args.question, history=history, filters=filters)
    if args.json:
        record = assistant.record("answer", args.question, [answer])
        say(json.dumps({**answer.to_dict(), "record": record}, indent=2, ensure_ascii=False))
    else:
        say(_render(answer))
    return EXIT_OK


DRAFT_SUFFIXES = (".md", ".docx")


def _draft_out(args: argparse.Namespace) -> Path | None:
    out = args.out
    if out is not None and out.suffix.lower() not in DRAFT_SUFFIXES:
        raise UsageError(f"--out {out}: the file must end in .md or .docx")
    if out is not None and not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    # Said before the draft is made (a minute, for a briefing), not after.
    if out is not None and out.is_dir():
        raise UsageError(f"--out {out}: is a folder; name the file to write")
    if out is not None and not os.access(out.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the folder {out.parent} cannot be written to")
    return out


def _write_draft(args: argparse.Namespace, draft, markdown, word) -> int:
    """Prints the draft (Markdown, or JSON with --json), or writes it whole to --out."""
    if args.json:
        say(json.dumps(draft.to_dict(), indent=2, ensure_ascii=False))
    if args.out is None:
        if not args.json:
            say(markdown(draft))
        return EXIT_OK
    if args.out.suffix.lower() == ".docx":
        data = word(draft, get_settings().author)
    else:
        data = markdown(draft).encode("utf-8")
    partial = args.out.with_name(f".{args.out.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(args.out)
    except OSError as err:
        partial.unlink(missing_ok=True)
        return _fail(f"--out {args.out}: cannot be written: {err.strerror or err}")
    if not args.json:
        say(f"wrote {args.out} ({len(draft.sources)} sources)", file=sys.stderr)
    return EXIT_OK


def cmd_brief(args: argparse.Namespace) -> int:
    from .chain import Assistant
    from .exports import briefing_docx, briefing_markdown

    out = _draft_out(args)
    filters = _filters(args.filter)
    note = Assistant(get_settings()).brief(args.topic, filters=filters)
    args.out = out
    return _write_draft(args, note, briefing_markdown, briefing_docx)


def cmd_compare(args: argparse.Namespace) -> int:
    from .chain import Assistant
    from .exports import comparison_docx, comparison_markdown

    out = _draft_out(args)
    filters = _filters(args.filter)
    table = Assistant(get_settings()).compare(args.question, args.across, filters=filters)
    args.out = out
    return _write_draft(args, table, comparison_markdown, comparison_docx)


def cmd_chat(args: argparse.Namespace, input_fn=input) -> int:
    from .chain import Assistant, QuestionError

    assistant = Assistant(get_settings())
    filters = _filters(args.filter)
    history: list[dict[str, str]] = []
    say("Ask a question about the indexed documents. /new starts a new conversation, /quit ends.")
    while True:
        try:
            question = input_fn("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            say()
            return EXIT_OK
        if question in ("/quit", "/exit"):
            return EXIT_OK
        if question == "/new":
            history = []
            say("(a new conversation)")
            continue
        if not question:
            continue
        try:
            answer = assistant.ask(question, history=history, filters=filters)
        except QuestionError as err:
            say(f"error: {err}")
            continue
        say("\n" + _render(answer))
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.answer},
        ]


def cmd_eval(args: argparse.Namespace) -> int:

    from .eval_report import write
    from .evalsets import EvalSet, QuestionFileError, load_questions, load_sets
    from .evaluation import CONFIGS, RunOptions, check, run_set

    configs = tuple(c.strip() for c in (args.configs or "").split(",") if c.strip()) or None
    unknown = set(configs or ()) - set(CONFIGS)
    if unknown:
        raise UsageError(f"--configs takes {', '.join(CONFIGS)}, not {', '.join(sorted(unknown))}")
    settings = get_settings()
    try:
        if args.questions or args.corpus:
            if not (args.questions and args.corpus):
                raise UsageError("--corpus and --questions go together")
            if not args.corpus.is_dir():
                raise UsageError(f"--corpus {args.corpus}: is not a folder")
            chosen = {
                "custom": EvalSet(
                    "custom",
                    args.corpus,
                    load_questions(args.questions),
                    ("assistant", "dense", "lexical", "plain"),
                )
            }
        else:
            sets = load_sets(args.sets, args.sets.resolve().parents[1], settings.index_dir / "eval")
            names = args.set or list(sets)
            missing = [n for n in names if n not in sets]
            if missing:
                raise UsageError(f"no set {', '.join(missing)} in {args.sets}: {', '.join(sets)}")
            chosen = {n: sets[n] for n in names}
    except QuestionFileError as err:
        raise UsageError(str(err)) from err
    judge = None
    if args.judge:
        from .embeddings import get_embedder
        from .judge import Judge
        from .llm import chat_model_from_settings

        model = chat_model_from_settings(settings)
        if model is None:
            raise UsageError("--judge needs a chat model: set ASSISTANT_LLM")
        judge = Judge(model, get_embedder(settings))
    if args.sweep:
        return _sweep(settings, chosen, args)
    if args.careful_sweep:
        return _careful_sweep(settings, chosen, args)
    if args.check and args.cross_fitted:
        raise UsageError(
            "--check holds the shipped selector to its thresholds: not with --cross-fitted"
        )
    options = RunOptions(
        configs=configs, split=args.split, quick=args.quick, selector_for=_cross_fitted(args)
    )
    if args.reliability and (
        len(chosen) != 1
        or args.cross_fitted
        or args.quick
        or (configs or ("assistant",))[0] != "assistant"
    ):
        raise UsageError(
            "--reliability measures the shipped selector on one set, every question of it"
        )
    if args.reliability and args.questions and _trained_on(args.questions):
        raise UsageError(
            "--reliability: the shipped selector was trained on these questions (train-selector "
            "--with-training-questions), so they cannot say how often it is right on questions "
            "it never saw"
        )
    results = {}
    for name, eval_set in chosen.items():
        if not args.json:
            say(f"{name}: {len(eval_set.questions)} questions ...", file=sys.stderr, flush=True)
        results[name] = run_set(settings, eval_set, options, judge)
    paths = write(results, args.reports)
    if args.reliability:
        source = str(args.questions) if args.questions else ", ".join(chosen)
        _write_reliability(args.reliability, results, source)
    if args.json:
        say(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for name, result in results.items():
            say(f"{name}: {result['questions']} questions; report in {_display(str(paths[name]))}")
            for config, scores in result["configs"].items():
                overall = scores["overall"]
                say(
                    f"  {config:9} "
                    + ", ".join(
                        f"{m} {overall[m]}"
                        for m in (
                            "answered_correctly",
                            "evidence_quoted",
                            "refusal_accuracy",
                            "false_refusal_rate",
                        )
                        if overall.get(m) is not None
                    )
                )
    if args.check:
        if _missed(args.thresholds, check, results):
            return EXIT_FAILED
        if not args.json:
            say("all metrics meet their thresholds")
    return EXIT_OK


def _write_reliability(path: Path, results: dict, source: str) -> None:
    """The bands of P of the one set's answers, tied to the shipped selector."""
    from . import reliability
    from .selector import SelectorError, default_selector

    (result,) = results.values()
    try:
        selector = default_selector()
        bands = reliability.measure(result["per_question"], floor=selector.threshold)
    except (ValueError, SelectorError) as err:
        raise UsageError(f"--reliability: {err}") from err
    reliability.write(path, bands, selector.data, f"{source}: {result['questions']} questions")
    say(f"how often answers were right, by P: {_display(str(path))}", file=sys.stderr)
    for band in bands:
        say(f"  {band.said()}", file=sys.stderr)


def _trained_on(questions: Path) -> bool:
    """Whether the shipped selector was trained on these questions: the real-document ones
    written for training only, where it was trained with them."""
    from .selector import default_selector
    from .selector_training import REALDOCS_TRAINING

    if not default_selector().data.get("training", {}).get("training_questions"):
        return False
    return questions.resolve().is_relative_to(REALDOCS_TRAINING.resolve())


def _cross_fitted(args: argparse.Namespace):
    """The fold selectors of --cross-fitted, each answering the questions on the documents it
    never saw; None without it."""
    if not args.cross_fitted:
        return None
    from .selector_training import CrossFitted

    try:
        return CrossFitted(args.cross_fitted)
    except ValueError as err:
        raise UsageError(str(err)) from err


def _missed(path: Path, check, results) -> list[str]:
    """The metrics that miss their thresholds in the file at `path`, each said on stderr."""
    import yaml

    try:
        thresholds = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"{path}: cannot be read as YAML: {err}") from err
    failures = check(results, thresholds)
    for failure in failures:
        say(f"below threshold: {failure}", file=sys.stderr)
    return failures


def fitting_rows(rows: list[dict]) -> list[dict]:
    """The rows careful mode may be fitted on: none from a set's test part."""
    return [row for row in rows if row.get("split") != "test"]


def _careful_sweep(settings, chosen, args: argparse.Namespace) -> int:
    """Asks the sets twice with no refusal threshold, by the selector alone and with the
    careful model judging every question, fits careful mode's weighing on them and writes it
    (reports/careful.json) with what each threshold trades (reports/careful.md)."""
    from .careful import EVERY, fit_calibration
    from .evaluation import RunOptions, run_set
    from .selector import default_selector

    if not settings.careful:
        raise UsageError("--careful-sweep needs a careful model: set ASSISTANT_CAREFUL")
    shipped = (
        settings.answer_threshold
        if settings.answer_threshold is not None
        else default_selector().threshold
    )
    args.reports.mkdir(parents=True, exist_ok=True)
    every = args.reports / "careful-every.json"
    replace(EVERY, sentences=args.careful_sentences).save(every)
    selector_for = _cross_fitted(args)
    options = RunOptions(
        configs=["assistant"], split=args.split, quick=args.quick, selector_for=selector_for
    )
    alone_settings = settings.model_copy(update={"answer_threshold": 0.0, "careful": None})
    judging = settings.model_copy(update={"answer_threshold": 0.0, "careful_calibration": every})
    alone, judged = [], []
    try:
        for name, eval_set in chosen.items():
            for rows, use in ((alone, alone_settings), (judged, judging)):
                rows += [
                    {**row, "id": f"{name}/{row['id']}"}
                    for row in run_set(use, eval_set, options)["per_question"]
                ]
    finally:
        every.unlink()
    # A test part is never tuned on: its questions are asked, and left out of the fit.
    alone, judged = fitting_rows(alone), fitting_rows(judged)
    if not alone:
        raise UsageError("--careful-sweep has no question outside a test part to fit on")
    split = f", {args.split} part" if args.split else ", test parts left out"
    data = f"{', '.join(chosen)}{split}: {len(alone)} questions"
    if selector_for is not None:
        data += ", the real documents' P from the selector of the fold that never saw them"
    try:
        calibration, table = fit_calibration(
            alone, judged, shipped, settings.careful, data, args.careful_sentences
        )
    except ValueError as err:
        raise UsageError(str(err)) from err
    calibration.save(args.reports / "careful.json")
    (args.reports / "careful-questions.json").write_text(
        json.dumps({"alone": alone, "judged": judged}, default=str), encoding="utf-8"
    )
    path = args.reports / "careful.md"
    path.write_text(careful_report(calibration, table, settings.careful, data), encoding="utf-8")
    say(
        json.dumps(asdict(calibration))
        if args.json
        else f"{_display(str(path))}; to use it: ASSISTANT_CAREFUL_CALIBRATION="
        f"{_display(str(args.reports / 'careful.json'))}"
    )
    return EXIT_OK


def careful_report(calibration, table, model: str, data: str) -> str:
    """What careful mode's fitted weighing trades at each threshold, as Markdown."""
    lines = [
        f"# Careful mode's weighing ({data})",
        "",
        f"Each asked with no threshold by the selector alone and with {model} judging it; a "
        "logistic regression over the selector's P and the model's best P(yes), out of fold. "
        f"Fitted: {calibration}.",
        "",
        "| threshold | answerable answered correctly | false refusals | unanswerable refused |",
        "|---|---|---|---|",
    ]
    for row in table:
        mark = " (chosen)" if row["threshold"] == calibration.threshold else ""
        lines.append(
            f"| {row['threshold']:g}{mark} | {row['answered_correctly']:.3f} "
            f"| {row['false_refusals']:.3f} | {row['unanswerable_refused']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def _sweep(settings, chosen, args: argparse.Namespace) -> int:
    """Asks each set with no refusal threshold and writes what each threshold would trade."""
    from .evaluation import RunOptions, run_set, threshold_sweep
    from .selector import default_selector

    shipped = (
        settings.answer_threshold
        if settings.answer_threshold is not None
        else default_selector().threshold
    )
    open_ended = settings.model_copy(update={"answer_threshold": 0.0})
    options = RunOptions(configs=["assistant"], split=args.split, quick=args.quick)
    args.reports.mkdir(parents=True, exist_ok=True)
    for name, eval_set in chosen.items():
        result = run_set(open_ended, eval_set, options)
        table = threshold_sweep(result["per_question"], also=[shipped])
        split = f", {args.split} part" if args.split else ""
        lines = [
            f"# {name}{split}: what the refusal threshold trades",
            "",
            f"{result['questions']} questions, each answered with no threshold and its "
            "P(the evidence answers) kept; the threshold in use is "
            f"{shipped:g}.",
            "",
            "| threshold | answerable answered correctly | false refusals | unanswerable refused |",
            "|---|---|---|---|",
        ]
        for row in table:
            mark = " (in use)" if row["threshold"] == shipped else ""
            lines.append(
                f"| {row['threshold']:g}{mark} | {row['answered_correctly']:.3f} "
                f"| {row['false_refusals']:.3f} | {row['unanswerable_refused']:.3f} |"
            )
        path = args.reports / f"{name}-threshold.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if args.json:
            say(json.dumps({name: table}, indent=2))
        else:
            say(f"{name}: {result['questions']} questions; {_display(str(path))}")
    return EXIT_OK


def cmd_eval_drafts(args: argparse.Namespace) -> int:

    from .drafts_eval import DraftCaseError, check, load_cases, markdown, run

    try:
        cases = load_cases(args.cases)
    except DraftCaseError as err:
        raise UsageError(str(err)) from err
    root = args.cases.resolve().parents[1]
    corpora = {"starter": root / "corpus", "realdocs": root / "evals" / "realdocs" / "documents"}
    if args.set:
        corpora = {name: corpora[name] for name in args.set}
    if not args.json:
        say(f"drafting {len(cases)} cases ...", file=sys.stderr, flush=True)
    results = run(get_settings(), cases, corpora, args.split)
    args.reports.mkdir(parents=True, exist_ok=True)
    (args.reports / "drafts.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (args.reports / "drafts.md").write_text(markdown(results), encoding="utf-8")
    if args.json:
        say(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for name, result in results.items():
            scores = result["overall"]
            say(
                f"{name}: {scores['cases']} cases; "
                + ", ".join(f"{m} {v}" for m, v in scores.items() if m != "cases")
            )
        say(f"report in {_display(str(args.reports / 'drafts.md'))}")
    if args.check:
        if _missed(args.thresholds, check, results):
            return EXIT_FAILED
        say("all draft metrics meet their thresholds")
    return EXIT_OK


def cmd_train_selector(args: argparse.Namespace) -> int:
    from .selector_training import run_cross_fitted, run_training

    settings = get_settings().model_copy(update={"progress": False})
    if args.cross_fitted:
        path = run_cross_fitted(
            settings,
            lambda line: say(line, file=sys.stderr, flush=True),
            reuse=args.reuse,
            with_training=args.with_training_questions,
        )
        say(f"wrote the five folds' selectors to {_display(str(path))}; the model is unchanged")
        return EXIT_OK
    data = run_training(
        settings,
        args.out,
        lambda line: say(line, file=sys.stderr, flush=True),
        reuse=args.reuse,
        with_training=args.with_training_questions,
    )
    say(f"wrote {_display(str(args.out))} and its model card; threshold {data['threshold']:.2f}")
    for source, m in data["held_out"].items():
        say(
            f"  held out, {source}: best sentence right {m['top1']}, answerable answered "
            f"{m['answered_when_answerable']}, "
            f"unanswerable refused {m['refused_when_unanswerable']}"
        )
    return EXIT_OK


def _path_arg(text: str) -> Path:
    """A path argument; an empty one (a script's unset variable) is refused, not read as the
    current folder, which --rebuild or --prune would then index in place of the one meant."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no folder or file")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="An evidence assistant: cited, checked answers from the documents you index.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="add folders or files to the index")
    ingest.add_argument(
        "paths", nargs="+", type=_path_arg, help="folders or files (.pdf .md .txt .html .docx)"
    )
    ingest.add_argument(
        "--prune",
        action="store_true",
        help="remove indexed documents whose files are gone from these folders",
    )
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and build it anew")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.add_argument("--quiet", action="store_true", help="no progress bars")
    ingest.add_argument(
        "--verbose", action="store_true", help="print a line as each document is committed"
    )
    ingest.set_defaults(run=cmd_ingest)

    status = sub.add_parser("status", help="list what the index holds")
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.set_defaults(run=cmd_status)

    remove = sub.add_parser("remove", help="drop one document from the index")
    remove.add_argument(
        "document", help="its id (or the first 6+ characters), source path or title"
    )
    remove.set_defaults(run=cmd_remove)
    ask = sub.add_parser("ask", help="answer one question from the indexed documents")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument(
        "--json", action="store_true", help="print the answer and its evidence as JSON"
    )
    ask.add_argument(
        "--filter",
        action="append",
        metavar="FIELD=VALUE",
        help="search only documents with this field (jurisdiction, kind, year, "
        "document, title); repeatable",
    )
    ask.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help='the conversation so far: a JSON list of {"role", "content"}',
    )
    ask.set_defaults(run=cmd_ask)

    brief = sub.add_parser(
        "brief",
        help="draft a briefing note on a topic from the indexed documents",
        description="Drafts a briefing note: summary, background, the evidence by "
        "jurisdiction, questions a reader may ask, lessons, gaps and numbered sources, every "
        "evidence sentence cited and checked. Prints Markdown unless --out or --json.",
    )
    brief.add_argument(
        "topic", help='the topic, in quotes (e.g. "holding public bodies to account")'
    )
    compare = sub.add_parser(
        "compare",
        help="answer a question once per jurisdiction or per document, as a table",
        description="Answers the question for each jurisdiction (or each document holding "
        "evidence on it), a row each, 'not found in the indexed documents' where a side has "
        "none. Prints Markdown unless --out or --json.",
    )
    compare.add_argument("question", help="the question, in quotes")
    compare.add_argument(
        "--across",
        choices=["jurisdiction", "document"],
        default="jurisdiction",
        help="one row per jurisdiction (default) or per document",
    )
    for draft in (brief, compare):
        draft.add_argument(
            "--out", type=Path, metavar="FILE", help="write the draft to FILE (.md or .docx)"
        )
        draft.add_argument(
            "--filter",
            action="append",
            metavar="FIELD=VALUE",
            help="draw only on documents with this field; repeatable",
        )
        draft.add_argument(
            "--json", action="store_true", help="print the draft and its answer record as JSON"
        )
    brief.set_defaults(run=cmd_brief)
    compare.set_defaults(run=cmd_compare)

    chat = sub.add_parser("chat", help="a conversation in the terminal")
    chat.add_argument(
        "--filter",
        action="append",
        metavar="FIELD=VALUE",
        help="search only documents with this field; repeatable",
    )
    chat.set_defaults(run=cmd_chat)

    evaluate = sub.add_parser(
        "eval",
        help="score answers against question sets (evals/sets.yaml), or your own",
        description="Asks each set's questions of the assistant and its baselines, scores the "
        "answers and writes a report. Without --set: every set in the sets file.",
    )
    evaluate.add_argument(
        "--set", action="append", metavar="NAME", help="a set of the sets file; repeatable"
    )
    evaluate.add_argument("--sets", type=Path, default=Path("evals/sets.yaml"))
    evaluate.add_argument("--corpus", type=Path, help="your own folder of documents ...")
    evaluate.add_argument(
        "--questions", type=Path, help="... and its questions: a YAML file or a folder of them"
    )
    evaluate.add_argument("--split", help="only the questions of this split (test, tuning)")
    evaluate.add_argument(
        "--quick", action="store_true", help="each set's fixed sample (what CI asks), not all"
    )
    evaluate.add_argument("--thresholds", type=Path, default=Path("evals/thresholds.yaml"))
    evaluate.add_argument("--reports", type=Path, default=Path("evals/reports"))
    evaluate.add_argument(
        "--careful-sweep",
        action="store_true",
        help="ask with no threshold by the selector alone and with ASSISTANT_CAREFUL judging "
        "every question, and fit careful mode's weighing on them (reports/careful.json)",
    )
    evaluate.add_argument(
        "--careful-sentences",
        type=int,
        default=3,
        metavar="N",
        help="with --careful-sweep: how many of the likeliest sentences the model judges",
    )
    evaluate.add_argument(
        "--cross-fitted",
        type=Path,
        metavar="FILE",
        help="ask each real-document question with the selector of the fold that never saw "
        "its document, for figures on the tuning part that are not in-sample "
        "(train-selector --cross-fitted writes FILE)",
    )
    evaluate.add_argument(
        "--sweep",
        action="store_true",
        help="ask with no refusal threshold and write what each threshold would trade "
        "(reports/SET-threshold.md)",
    )
    evaluate.add_argument(
        "--configs",
        help="assistant, dense, lexical, rrf, plain (comma-separated; the first is under test)",
    )
    evaluate.add_argument(
        "--check", action="store_true", help="exit 1 when a metric misses its threshold"
    )
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON only")
    evaluate.add_argument(
        "--reliability",
        type=Path,
        metavar="FILE",
        help="write how often the answers of each band of P were right (one set, questions "
        "the shipped selector never saw: make reliability), which answers then show",
    )
    evaluate.add_argument(
        "--judge",
        action="store_true",
        help="also score faithfulness and relevancy with the ASSISTANT_LLM model",
    )
    evaluate.set_defaults(run=cmd_eval)

    drafts = sub.add_parser(
        "eval-drafts",
        help="score briefing notes and comparisons against evals/drafts.yaml",
        description="Drafts each case of the file over its set's corpus (starter: corpus/, "
        "realdocs: evals/realdocs/documents/) and scores the sides covered, the key points "
        "stated, support, and what it reports as not found. Writes reports/drafts.md.",
    )
    drafts.add_argument("--cases", type=Path, default=Path("evals/drafts.yaml"))
    drafts.add_argument(
        "--set", action="append", choices=["starter", "realdocs"], help="only this set"
    )
    drafts.add_argument("--split", choices=["test", "tuning"], help="only this split")
    drafts.add_argument("--thresholds", type=Path, default=Path("evals/thresholds.yaml"))
    drafts.add_argument("--reports", type=Path, default=Path("evals/reports"))
    drafts.add_argument("--check", action="store_true", help="exit 1 if a metric misses")
    drafts.add_argument("--json", action="store_true", help="print the results as JSON only")
    drafts.set_defaults(run=cmd_eval_drafts)

    trainer = sub.add_parser(
        "train-selector",
        help="rebuild the answer selector from labelled questions (a few minutes)",
    )
    from .selector import MODEL_PATH

    trainer.add_argument("--out", type=Path, default=MODEL_PATH, help="the model file to write")
    trainer.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the examples the last run collected (same questions, signals, reading and "
        "code) and ask only new or changed questions",
    )
    trainer.add_argument(
        "--with-training-questions",
        action="store_true",
        help="train on the real-document questions written for training only as well; they "
        "are then no longer questions it never saw, and `make reliability` cannot measure it",
    )
    trainer.add_argument(
        "--cross-fitted",
        action="store_true",
        help="write only the selectors of the five folds, each without a fifth of the "
        "documents, for fitting careful mode (eval --careful-sweep --cross-fitted)",
    )
    trainer.set_defaults(run=cmd_train_selector)

    corpus = sub.add_parser("corpus", help="the starter corpus and the official documents")
    corpus_sub = corpus.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    build = corpus_sub.add_parser("build", help="rebuild the starter PDFs from corpus/sources/")
    build.add_argument("--corpus", type=Path, default=Path("corpus"), help="the corpus folder")
    build.set_defaults(run=cmd_corpus_build)
    fetch = corpus_sub.add_parser(
        "fetch", help="download the official documents into corpus/official/ and ingest them"
    )
    fetch.add_argument("--corpus", type=Path, default=Path("corpus"), help="the corpus folder")
    fetch.set_defaults(run=cmd_corpus_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return code
    except BrokenPipeError:
        # The reader went away (`assistant status | head -1`): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        # Ctrl-C while a question or a draft is being answered: one line, not a traceback.
        # (An ingest says what it kept; see cmd_ingest.) Nothing is half-written: an answer
        # writes nothing, and a draft's --out is written whole or not at all.
        return _fail("interrupted", EXIT_INTERRUPTED)


def _setting_problems(err) -> str:
    """Each bad setting of a pydantic ValidationError named by its variable, on one line."""
    problems = []
    for e in err.errors():
        name = f"ASSISTANT_{'_'.join(map(str, e['loc'])).upper()}"
        message = " ".join(str(e["msg"]).removeprefix("Value error, ").split())
        problems.append(message if message.startswith(name) else f"{name}: {message}")
    return "; ".join(problems)


def _main(argv: Sequence[str] | None) -> int:
    from pydantic import ValidationError

    from .store import StoreError

    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ValidationError as err:
        return _fail(f"bad setting: {_setting_problems(err)}", EXIT_USAGE)
    from .chain import QuestionError
    from .llm import LLMError
    from .selector import SelectorError

    try:
        return args.run(args)
    except (UsageError, QuestionError) as err:
        return _fail(str(err), EXIT_USAGE)
    except (StoreError, LLMError, SelectorError) as err:
        return _fail(str(err))


if __name__ == "__main__":
    sys.exit(main())

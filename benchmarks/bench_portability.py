"""Whether the same text gets the same vector on another processor.

ONNX Runtime picks its int8 matrix kernels by what the processor offers. With VNNI (or AMX),
8-bit activations times 8-bit weights are summed exactly in 32 bits; with AVX2 alone, pairs of
products are first summed in 16 bits, where 255 x 127 x 2 overflows and is clipped. A model
with 8-bit weights (what the assistant ships) therefore gives other vectors on an AVX2 machine
than on a newer one, and an index built on one and asked on another (a team's Chroma server, a
CI machine) is searched with vectors that do not quite match it. Weights in 7 bits
(`reduce_range`; 255 x 64 x 2 < 32,768) never overflow.

This benchmark embeds the same sentences on this processor and on an emulated Haswell (AVX2,
no AVX-512, no VNNI: `qemu-x86_64 -cpu Haswell`, Debian's qemu-user) with the shipped 8-bit
weights and with 7-bit ones, and prints, for each, how many vectors came out the same, the
cosine between the two processors' vectors, and the cosine to fp32's on this processor.

Run: .venv/bin/python benchmarks/bench_portability.py [--sentences 60]
(several minutes a model under emulation for 60 sentences, on 2 cores). It shows the
difference only on a processor with VNNI or AMX; on an AVX2 one both runs take the same kernels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sentences(n: int) -> list[str]:
    """The first n evidence sentences of the starter corpus, as the assistant reads them."""
    from assistant.citations import is_evidence, split_sentences
    from assistant.loaders import load_file

    out: list[str] = []
    for pdf in sorted((ROOT / "corpus").glob("*.pdf")):
        for page in load_file(pdf, 50 * 1024 * 1024).pages:
            out += [
                " ".join(s.split())  # one line each: the texts go to the embedder as lines
                for s in split_sentences(page.text)
                if is_evidence(s) and len(s) > 40
            ]
    step = max(1, len(out) // n)
    return out[::step][:n]


def embed(model: str, texts_file: str, out: str) -> None:
    """Each text's mean-pooled, normalised vector, one text at a time, one thread."""
    import onnxruntime as ort

    from assistant.embeddings import tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    tok = tokenizer()
    vectors = []
    for text in Path(texts_file).read_text(encoding="utf-8").splitlines():
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids},
        )
        v = hidden[0].mean(axis=0)
        vectors.append(v / np.linalg.norm(v))
    np.save(out, np.array(vectors))


def models(folder: Path) -> dict[str, str]:
    """fp32, the shipped 8-bit weights and 7-bit weights of the same export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.config import Settings
    from assistant.embeddings import onnx_model_file

    cache = Settings().model_cache_dir
    fp32 = str(onnx_model_file(cache, quantized=False))
    seven = str(folder / "int8-7bit.onnx")
    quantize_dynamic(fp32, seven, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    return {
        "fp32": fp32,
        "int8, 8-bit weights (shipped)": str(onnx_model_file(cache, quantized=True)),
        "int8, 7-bit weights": seven,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=60)
    parser.add_argument(
        "--embed", nargs=3, metavar=("MODEL", "TEXTS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.embed:
        embed(*args.embed)
        return
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        sys.exit("needs Debian's qemu-user (qemu-x86_64) to emulate an AVX2-only processor")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        texts = folder / "texts.txt"
        texts.write_text("\n".join(sentences(args.sentences)), encoding="utf-8")
        # The interpreter itself under emulation, with this environment's packages.
        python = os.path.realpath(sys.executable)
        env = {**os.environ, "PYTHONPATH": f"{sysconfig.get_paths()['purelib']}:{ROOT}"}
        vectors: dict[tuple[str, str], np.ndarray] = {}
        for name, model in models(folder).items():
            cpus = [("this processor", [])]
            if name != "fp32":  # fp32 is the reference here; emulated, it takes far too long
                cpus.append(("Haswell (AVX2)", [qemu, "-cpu", "Haswell"]))
            for cpu, prefix in cpus:
                out = folder / f"{len(vectors)}.npy"
                subprocess.run(
                    [*prefix, python, __file__, "--embed", model, str(texts), str(out)],
                    env=env,
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
                vectors[(name, cpu)] = np.load(out)
    fp32 = vectors[("fp32", "this processor")]
    flags = (
        set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    )
    kernels = sorted(flags & {"avx512_vnni", "avx_vnni", "amx_int8"}) or ["none: AVX2 at most"]
    print(f"\nthis processor's int8 extensions: {', '.join(kernels)}")
    print(f"{args.sentences} sentences of the starter corpus, one at a time\n")
    print(
        f"{'weights':32} {'same vector':>12} {'cos across, mean':>17} {'min':>8} "
        f"{'cos to fp32':>12}"
    )
    for name in dict.fromkeys(n for n, cpu in vectors if cpu != "this processor"):
        here, there = vectors[(name, "this processor")], vectors[(name, "Haswell (AVX2)")]
        across = (here * there).sum(axis=1)
        same = int((np.abs(here - there).max(axis=1) < 1e-6).sum())
        to_fp32 = float((here * fp32).sum(axis=1).mean())
        print(
            f"{name:32} {same:>5} of {len(here):<4} {across.mean():>17.5f} {across.min():>8.5f} "
            f"{to_fp32:>12.5f}"
        )


if __name__ == "__main__":
    main()

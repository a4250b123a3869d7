"""Runs the ordo-one kernel benchmarks (target `Kernels`) and collects their per-iteration samples
into one JSON file that 03-kernels.ipynb plots.

    python Notebooks/kernel_results.py --output Benchmarks/results/kernels-DATE.json [--filter REGEX]

The benchmark plugin is run as
    swift package --allow-writing-to-package-directory benchmark --target Kernels
        --format histogramSamples --path TMP [--filter REGEX]
which writes one `<baseline>.Kernels.<name>.<metric>.histogram.samples.tsv` per benchmark and
metric: a header line `METRIC (UNIT)` then one sample per line, in units of the header
(`(K)` = thousands, `(M)` = millions, `(ms)` = milliseconds). The JSON holds, per benchmark and
metric, the unscaled samples and their median and quartiles, plus a description of the machine.
Thread counts come from the environment (OPENBLAS_NUM_THREADS, EMBEDDINGS_THREADS), default 2.
"""
import argparse
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

SCALES = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}
SUFFIX = ".histogram.samples.tsv"


def run_benchmarks(root, directory, filter_regex=None, log=sys.stderr):
    """Runs the Kernels benchmarks; raises if the plugin fails."""
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "2")
    env.setdefault("EMBEDDINGS_THREADS", "2")
    command = ["swift", "package", "--allow-writing-to-package-directory", "benchmark", "--target", "Kernels",
               "--format", "histogramSamples", "--path", str(directory), "--no-progress"]
    if filter_regex:
        command += ["--filter", filter_regex]
    print("$", " ".join(command), file=log)
    start = time.time()
    p = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"benchmark run failed (status {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    print(f"({time.time() - start:.0f} s)", file=log)


def parse_header(line):
    """'MFLOP/s (K)' -> ('MFLOP/s', 1000.0); 'Time (wall clock) (ms)' -> ('Time (wall clock) ms', 1.0)."""
    line = line.strip().rstrip("*").strip()
    m = re.match(r"^(.*?)\s*\(([KMG]?)\)$", line)
    if m:
        return m.group(1), SCALES[m.group(2)]
    return line, 1.0


def collect(directory):
    """{benchmark name: {metric: {unit, samples, median, p25, p75, min, max}}} from the TSV files."""
    results = {}
    for path in sorted(pathlib.Path(directory).glob("*" + SUFFIX)):
        stem = path.name[: -len(SUFFIX)]
        parts = stem.split(".", 2)  # baseline, target, rest
        if len(parts) < 3:
            continue
        name, metric = parts[2].rsplit(".", 1)
        lines = path.read_text().splitlines()
        unit, scale = parse_header(lines[0])
        samples = sorted(float(x) * scale for x in lines[1:] if x.strip())
        if not samples:
            continue

        def q(f):
            k = (len(samples) - 1) * f
            lo, hi = int(k), min(int(k) + 1, len(samples) - 1)
            return samples[lo] + (samples[hi] - samples[lo]) * (k - lo)

        results.setdefault(name.replace("_", " "), {})[metric] = {
            "unit": unit, "samples": samples, "median": q(0.5), "p25": q(0.25), "p75": q(0.75),
            "min": samples[0], "max": samples[-1],
        }
    return results


def machine():
    """A short description of the machine and settings the benchmarks ran with."""
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        swift = "unknown"
    return {
        "cpu": cpu, "logical_cpus": os.cpu_count(), "system": platform.platform(), "swift": swift,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "2"),
        "EMBEDDINGS_THREADS": os.environ.get("EMBEDDINGS_THREADS", "2"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(default)"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def measure(root, filter_regex=None, log=sys.stderr):
    """Runs the benchmarks in a temporary directory and returns {machine, filter, benchmarks}."""
    with tempfile.TemporaryDirectory() as directory:
        run_benchmarks(root, directory, filter_regex, log)
        benchmarks = collect(directory)
    if not benchmarks:
        raise RuntimeError("the benchmark run wrote no samples (filter matched nothing?)")
    return {"machine": machine(), "filter": filter_regex, "benchmarks": benchmarks}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output", required=True, help="JSON file to write")
    p.add_argument("--filter", help="regular expression of benchmark names (default: all)")
    p.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent), help="package root")
    p.add_argument("--note", default="", help="free text stored in the file (e.g. 'machine shared with builds')")
    args = p.parse_args()
    result = measure(args.root, args.filter)
    result["note"] = args.note
    pathlib.Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    for name, metrics in result["benchmarks"].items():
        print(f"{name:50s} " + "  ".join(f"{m} {v['median']:.4g}" for m, v in metrics.items()))


if __name__ == "__main__":
    main()

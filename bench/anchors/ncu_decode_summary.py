"""Per-kernel table of `Tritter.Bench profile-decode` (or `profile-train`) under ncu, as Markdown.

    ncu --clock-control none --profile-from-start off --metrics gpu__time_duration.sum,dram__bytes_read.sum --csv \
        ./Tritter.Bench profile-decode --preset 7B [--paper] > profile.csv
    python3 ncu_decode_summary.py profile.csv
    python3 ncu_decode_summary.py train.csv "Training step"   # one table over every kernel of the range

The profiled range holds one decode step replayed from its graph, then one prefill chunk and its last token launched op
by op; the parts are split at the embedding lookups that start each. ncu runs every kernel alone with cold caches, so
the times are each kernel's own (launch gaps and overlap are not in them) and sum to more than a graph replay takes.
"""
import collections
import csv
import io
import sys


def kernels(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith('"ID"'))
    by_id = collections.OrderedDict()
    for row in csv.DictReader(io.StringIO("\n".join(lines[header:]))):
        kernel = by_id.setdefault(row["ID"], {"name": row["Kernel Name"], "grid": row["Grid Size"]})
        value = row["Metric Value"].replace(",", "")
        kernel[row["Metric Name"]] = float(value) if value else 0.0
    return [line for line in lines[:header] if "decode step" in line or "training step" in line], list(by_id.values())


def table(title, part):
    totals = collections.OrderedDict()
    for k in part:
        entry = totals.setdefault((k["name"], k["grid"]), [0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += k["gpu__time_duration.sum"]
        entry[2] += k["dram__bytes_read.sum"]
    total_ns = sum(e[1] for e in totals.values())
    print(f"\n### {title}: {len(part)} kernels, {total_ns / 1e3:,.0f} us\n")
    print("| kernel | grid | launches | us | us each | share | DRAM read GB/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, grid), (count, ns, read) in sorted(totals.items(), key=lambda item: -item[1][1]):
        print(f"| {name} | {grid} | {count} | {ns / 1e3:,.1f} | {ns / count / 1e3:.2f} | {100 * ns / total_ns:.1f}% | {read / ns if ns else 0:,.0f} |")


def main():
    notes, ks = kernels(sys.argv[1])
    if len(sys.argv) > 2:
        table(sys.argv[2], ks)
        return
    for note in notes:
        print(f"`{note}` (host-timed under ncu, which slows every launch)")
    starts = [i for i, k in enumerate(ks) if k["name"].startswith("embedding")] + [len(ks)]
    table("Decode step (graph replay)", ks[starts[0]:starts[1]])
    if len(starts) > 2:
        table("Prefill chunk and its last token (op by op)", ks[starts[1]:])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Renders the results of scripts/bench-tables.sh as the Markdown tables of BENCHMARKS.md.

    python3 scripts/bench_tables.py OUT-DIR [TABLE...]
"""
import json
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def render(table, entries):
    print(f"#### {table}\n")
    print("| row | Trent req/s | baseline req/s | ratio | Trent p50 / p99 / p99.9 ms "
          "| baseline p99 ms | errors | load |")
    print("|---|---:|---:|---:|---|---:|---|---:|")
    for x in entries:
        r = x["r"]
        b = r.get("baseline") or {}
        errors = ", ".join(f"{code} {n}" for code, n in r["errors"].items()) or "0"
        print(f'| {x["label"]} | {r["requests_per_second"]:,.0f} '
              f'| {b.get("requests_per_second", 0):,.0f} | **{r.get("ratio_to_baseline", 0):.3f}** '
              f'| {r["p50_ms"]:.2f} / {r["p99_ms"]:.2f} / {r["p999_ms"]:.2f} '
              f'| {b.get("p99_ms", 0):.2f} | {errors} | {x["load"]:.1f} |')
    ratios = [x["r"].get("ratio_to_baseline", 0) for x in entries]
    if len(entries) > 1 and table == "headline":
        p99 = sorted(x["r"]["p99_ms"] for x in entries)
        rps = sorted(x["r"]["requests_per_second"] for x in entries)
        print(f"| **spread** | {rps[0]:,.0f}–{rps[-1]:,.0f} | | **{min(ratios):.3f}–{max(ratios):.3f}** "
              f"(median {sorted(ratios)[len(ratios) // 2]:.3f}) | p99 {p99[0]:.2f}–{p99[-1]:.2f} | | | |")
    print()


def main():
    out = sys.argv[1]
    wanted = sys.argv[2:]
    entries = rows(f"{out}/results.jsonl")
    tables = []
    for x in entries:
        if x["table"] not in tables:
            tables.append(x["table"])
    for table in tables:
        if wanted and table not in wanted:
            continue
        render(table, [x for x in entries if x["table"] == table])


if __name__ == "__main__":
    main()

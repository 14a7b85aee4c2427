"""bench/report.py: the run's context and its report.

  report.py --meta FILE --begin          record the machine, versions, load
  report.py --meta FILE --end --json OUT PHASE.json...
                                         combine the phases into OUT and
                                         print the Markdown tables

Ratios are "times better than moto" in the metric's own direction (lower
latency or memory, higher throughput); targets are shown next to the
numbers as met / not met and never change the exit status.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

SERVERS = ["ecslocal", "moto"]


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def moto_version(moto_bin):
    """Ask moto's own interpreter (from the script's #! line)."""
    try:
        with open(moto_bin) as f:
            first = f.readline().strip()
        python = first[2:].split()[0] if first.startswith("#!") else "python3"
        out = subprocess.run([python, "-c", "import importlib.metadata as m; "
                              "print(m.version('moto'))"], capture_output=True, text=True,
                             timeout=60)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return None


def begin(meta_path):
    ecsl = os.environ["ECSLOCAL_BIN"]
    moto = os.environ.get("MOTO_BIN") or None
    version = subprocess.run([ecsl, "--version"], capture_output=True, text=True).stdout.split()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "loadavg_begin": loadavg(),
        "ecslocal": {"bin": ecsl, "version": version[-1] if version else None,
                     "args": os.environ.get("BENCH_ECSLOCAL_ARGS", "--networking off")},
        "moto": {"bin": moto, "version": moto_version(moto)} if moto else None,
    }
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)


def fmt(v, unit):
    if v is None:
        return "—"
    if abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 100:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    elif abs(v) >= 1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3f}"
    return f"{s} {unit}".strip()


def ratio(row):
    """How many times ecslocal is better than moto on this row, or None."""
    e, m = row["values"].get("ecslocal"), row["values"].get("moto")
    if e is None or m is None or e <= 0 or m <= 0:
        return None
    return m / e if row.get("better", "lower") == "lower" else e / m


def ratio_text(r):
    if r is None:
        return "—"
    if r >= 1:
        return f"{r:,.1f}x better" if r < 100 else f"{r:,.0f}x better"
    return f"{1 / r:.1f}x worse"


def target_text(row):
    t = row.get("target")
    if not t:
        return ""
    e = row["values"].get("ecslocal")
    met = None
    if "max" in t and e is not None:
        met = e <= t["max"]
    elif "min" in t and e is not None:
        met = e >= t["min"]
    elif "ratio_min" in t:
        r = ratio(row)
        met = None if r is None else r >= t["ratio_min"]
    verdict = "" if met is None else (": met" if met else ": **not met**")
    return t["text"] + verdict


def markdown(meta, phases):
    out = []
    moto = meta.get("moto")
    out.append(f"# ecslocal bench, {meta['date']}")
    out.append("")
    who = f"ecslocal {meta['ecslocal']['version']}"
    who += f" vs moto_server {moto['version']}" if moto else " (moto_server not installed)"
    who += f" (ecslocal run with `{meta['ecslocal'].get('args', '')}`)"
    out.append(f"{who}; {meta['cpus']} CPUs, kernel {meta['kernel']}, load average "
               f"{meta['loadavg_begin']:.1f} at start, {meta.get('loadavg_end', 0):.1f} at end.")
    busy = max(meta["loadavg_begin"], meta.get("loadavg_end", 0))
    if busy > 0.5 * (meta["cpus"] or 1):
        out.append("")
        out.append(f"**The machine was busy (load {busy:.1f} on {meta['cpus']} CPUs): "
                   "the numbers are noisier and slower than on an idle machine.**")
    servers = ["ecslocal"] + (["moto"] if moto else [])
    for ph in phases:
        out.append("")
        out.append(f"## {ph.get('title', ph['phase'])}")
        out.append("")
        if ph.get("error"):
            out.append(f"Not measured: {ph['error']}")
            continue
        rows = ph.get("rows", [])
        if rows:
            head = "| metric | " + " | ".join(servers)
            head += " | ecslocal vs moto | target |" if moto else " | target |"
            out.append(head)
            out.append("|---|" + "---:|" * len(servers) + ("---:|---|" if moto else "---|"))
            for row in rows:
                cells = [fmt(row["values"].get(s), row["unit"]) for s in servers]
                line = f"| {row['metric']} | " + " | ".join(cells)
                line += f" | {ratio_text(ratio(row))}" if moto else ""
                line += f" | {target_text(row)} |"
                out.append(line)
            out.append("")
        for server, why in ph.get("skipped", {}).items():
            out.append(f"- skipped for {server}: {why}")
        for note in ph.get("notes", []):
            out.append(f"- {note}")
    return "\n".join(out) + "\n"


def end(meta_path, json_out, phase_files):
    with open(meta_path) as f:
        meta = json.load(f)
    meta["loadavg_end"] = loadavg()
    phases = []
    for path in phase_files:
        try:
            with open(path) as f:
                phases.append(json.load(f))
        except (OSError, ValueError) as e:
            phases.append({"phase": os.path.basename(path), "error": f"no result ({e})",
                           "rows": []})
    with open(json_out, "w") as f:
        json.dump({"meta": meta, "phases": phases}, f, indent=2)
        f.write("\n")
    sys.stdout.write(markdown(meta, phases))
    print(f"\n(JSON: {json_out})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meta", required=True)
    ap.add_argument("--begin", action="store_true")
    ap.add_argument("--end", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("phases", nargs="*")
    args = ap.parse_args()
    if args.begin:
        begin(args.meta)
    elif args.end:
        end(args.meta, args.json, args.phases)
    else:
        ap.error("--begin or --end")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Turn the benchmark JSON in one results folder into SVG charts beside it.

    /usr/bin/python3 bench/plot.py docs/results/2026-11-27-xeon-2c-b

Reads the Google Benchmark JSON files that scripts/bench.sh writes (<program>.json, e.g.
notification.json) and machine.txt, and writes one chart per program that has one:

    notification.svg    event notification vs its synchronous baseline, by consumers (fan-out)
    state-transfer.svg  event-carried state transfer vs asking the owner; converge by records
    transport.svg       the shared kit vs raw libzmq, by transport and message size
    peers.svg           the ZeroMQ kit vs NATS core, by consumers and message size
    codec.svg           positional vs named MessagePack vs JSON, per event
    event-stores.svg    the event store on SQLite vs on PostgreSQL: appends, writers, loads,
                        replay
    scaling.svg         partitioned consumer group vs competing consumers vs a synchronous
                        pool, by members; rebalancing at turn 1 and 32; lag drained over time
    saga.svg            checkout saga vs synchronous checkout (declines, a slow or down
                        participant); outbox vs dual write under SIGKILL; fault matrix; relay lag
    brokers.svg         ZeroMQ log vs JetStream vs RabbitMQ: highest rate with p99 <= 10 ms,
                        latency at a fixed rate, catch-up, CPU per million events
    brokers-kv.svg      the kit's ZeroMQ replica vs the JetStream KV bucket: converge, lag
    brokers-groups.svg  consumer groups on JetStream vs RabbitMQ: by members, takeover

A chart whose JSON is absent is skipped with a message; a benchmark missing from a JSON file
(filtered out, skipped, failed) leaves a gap in its chart. Values are the medians of the
repetitions (aggregate "median"); a run with a single repetition has no aggregates, so its one
measurement is used. Times are converted from each entry's "time_unit"; counters named *_us
are already microseconds.

Needs Debian's python3-matplotlib (3.6; `bash scripts/deps.sh --plots`), Agg backend, no
display.
"""

import json
import math
import re
import textwrap
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after use())
from matplotlib.ticker import FuncFormatter  # noqa: E402

# Stable SVG output: the same JSON gives byte-identical charts, so re-plotting adds no diff.
plt.rcParams.update({
    "svg.hashsalt": "eda-patterns",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.axisbelow": True,
})
SAVE_OPTIONS = {"format": "svg", "metadata": {"Date": None}}

SECONDS_PER = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
TRANSPORTS = {0: "inproc", 1: "ipc", 2: "tcp"}
# Two colours per chart, the same role everywhere: the pattern/kit/ZeroMQ side, and the
# baseline/raw/peer side.
OURS, THEIRS = "#1f77b4", "#ff7f0e"
LOG_SPAN = 30  # a value axis becomes logarithmic when its values span this factor or more

# Parts of a run name that are not parameters of the workload.
RUN_NAME_NOISE = re.compile(r"^(real_time|manual_time|process_time|(iterations|repeats|"
                            r"min_time|min_warmup_time|threads):.*)$")


# ---------------------------------------------------------------- reading the results

class Results:
    """The measurements of one program: one value set per benchmark run, by family and args."""

    def __init__(self, path):
        data = json.loads(path.read_text())
        by_run = {}
        for entry in data.get("benchmarks", []):
            if entry.get("error_occurred"):
                continue
            run = entry.get("run_name", entry["name"])
            kind = entry.get("aggregate_name") if entry.get("run_type") == "aggregate" else "one"
            by_run.setdefault(run, {}).setdefault(kind, []).append(entry)
        self.runs = []  # (family, args, entry)
        for run, kinds in by_run.items():
            if "median" in kinds:
                entry = kinds["median"][0]
            elif "one" in kinds:  # no aggregates: a single repetition (bench.sh --quick)
                ones = sorted(kinds["one"], key=lambda e: e.get("real_time", 0))
                entry = ones[len(ones) // 2]
            else:
                continue
            family, args = parse_run_name(run)
            self.runs.append((family, args, entry))
        self.repetitions = max((e.get("repetitions", 1) for _, _, e in self.runs), default=0)

    def find(self, family, **args):
        """The entry of `family` whose parameters include `args`, or None."""
        for fam, run_args, entry in self.runs:
            if fam == family and all(run_args.get(k) == v for k, v in args.items()):
                return entry
        return None

    def values(self, family, key):
        """Every run of `family` as (args, value of `key`), ordered by their parameters."""
        found = [(args, value(entry, key)) for fam, args, entry in self.runs if fam == family]
        return sorted([(a, v) for a, v in found if v is not None],
                      key=lambda av: sorted(av[0].items()))


def parse_run_name(run):
    """'BM_X/consumers:4/slow:0/iterations:3000/real_time' -> ('BM_X', {consumers: 4, slow: 0}).

    Parts without a colon (e.g. 'Positional' in 'BM_Codec_Encode/Positional') stay part of the
    family name.
    """
    family, args = [], {}
    for part in run.split("/"):
        if RUN_NAME_NOISE.match(part):
            continue
        key, sep, val = part.partition(":")
        if sep:
            args[key] = int(val) if re.fullmatch(r"-?\d+", val) else val
        else:
            family.append(part)
    return "/".join(family), args


def value(entry, key):
    """A number from an entry: 'seconds' (real time in seconds) or a counter, else None."""
    if entry is None:
        return None
    if key == "seconds":
        unit = entry.get("time_unit", "ns")
        if "real_time" not in entry or unit not in SECONDS_PER:
            return None
        return entry["real_time"] * SECONDS_PER[unit]
    v = entry.get(key)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def scaled(entry, key, factor):
    """value(entry, key) times factor (e.g. 1e6 for seconds to µs), or None."""
    v = value(entry, key)
    return None if v is None else v * factor


def load(results_dir, program):
    """The Results of `program` in the folder, or None (with a message) when absent."""
    path = results_dir / f"{program}.json"
    if not path.is_file():
        print(f"plot.py: skip {program}.svg: no {path}")
        return None
    try:
        results = Results(path)
    except (OSError, ValueError, KeyError) as error:
        print(f"plot.py: skip {program}.svg: cannot read {path}: {error}")
        return None
    if not results.runs:
        print(f"plot.py: skip {program}.svg: {path} holds no successful benchmark")
        return None
    return results


def machine_line(results_dir, results):
    """'cpu, N cores, kernel - median of 3 repetitions', from machine.txt and the JSON."""
    fields = {}
    machine = results_dir / "machine.txt"
    if machine.is_file():
        for line in machine.read_text().splitlines():
            key, sep, val = line.partition(":")
            if sep:
                fields[key.strip()] = val.strip()
    parts = [fields.get("cpu"), fields.get("cores") and f"{fields['cores']} cores",
             fields.get("kernel"), fields.get("build")]
    reps = results.repetitions
    parts.append(f"median of {reps} repetitions" if reps > 1 else "1 repetition")
    return ", ".join(p for p in parts if p)


# ---------------------------------------------------------------- drawing helpers

def new_figure(title, subtitle, rows, cols, width=12.0, height=4.6):
    fig, axes = plt.subplots(rows, cols, figsize=(width, height * rows), squeeze=False,
                             constrained_layout=True)
    subtitle = textwrap.fill(subtitle, width=int(width * 11))  # ~11 characters per inch
    fig.suptitle(f"{title}\n{subtitle}", fontsize=12)
    return fig, [ax for row in axes for ax in row]


def save(fig, results_dir, program):
    path = results_dir / f"{program}.svg"
    fig.savefig(path, **SAVE_OPTIONS)
    plt.close(fig)
    print(f"plot.py: wrote {path}")


def log_if_wide(ax, values, axis="y", force=False):
    """Logarithmic value axis when forced or when the values span LOG_SPAN or more."""
    positive = [v for v in values if v is not None and v > 0]
    if force or (positive and max(positive) / min(positive) >= LOG_SPAN):
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        return True
    return False


def fmt(v):
    """A short human number: 0.75, 12.3, 456, 7.2k, 1.9M."""
    if v is None:
        return ""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def human_axis(ax, axis="y"):
    """Tick labels like 200k, 1.5M on a linear axis, instead of an offset like '1e6'."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v) if v else "0"))


def grouped_bars(ax, groups, series, ylabel, log=None, notes=None):
    """Bars for each group (x ticks), one per series; `series` is [(name, colour, values)]
    or [(name, colour, values, hatch)].

    Each bar is labelled with its value, plus a line from `notes` ({series index: [text per
    group]}) if any. A None value leaves a gap. `log`: True/False, or None to decide from the
    values' span.
    """
    notes = notes or {}
    n = len(series)
    width = 0.8 / max(n, 1)
    all_values = [v for s in series for v in s[2]]
    is_log = log_if_wide(ax, all_values, force=bool(log)) if log is not False else False
    bars = []
    for i, (name, colour, vals, *rest) in enumerate(series):
        hatch = rest[0] if rest else None
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        heights = [v if v is not None else 0 for v in vals]
        if is_log:
            heights = [h if h > 0 else float("nan") for h in heights]
        b = ax.bar(xs, heights, width, label=name, color=colour,
                   hatch=hatch, edgecolor="white" if hatch else None)
        extra = notes.get(i, [""] * len(vals))
        ax.bar_label(b, labels=[fmt(v) + (f"\n{e}" if e and v is not None else "")
                                for v, e in zip(vals, extra)], fontsize=8, padding=2)
        bars.append(b)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    if is_log and not ylabel.endswith("log)"):
        ylabel = f"{ylabel[:-1]}, log)" if ylabel.endswith(")") else f"{ylabel} (log)"
    ax.set_ylabel(ylabel)
    if is_log:
        ax.set_ylim(top=ax.get_ylim()[1] * (4 if notes else 2.5))  # room for the labels
    else:
        ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * (1.25 if notes else 1.1))
        human_axis(ax)
    ax.legend()
    return bars


def plain_bars(ax, names, vals, colours, title, ylabel, human=False):
    """One bar per name, each labelled with its value (None: an empty slot)."""
    bars = ax.bar(range(len(names)), [v or 0 for v in vals], color=colours)
    ax.bar_label(bars, labels=[fmt(v) for v in vals], fontsize=8, padding=2)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylim(0, max(v or 0 for v in vals) * 1.15 or 1)
    if human:
        human_axis(ax)
    ax.set_title(title)
    ax.set_ylabel(ylabel)


def measured(series):
    """Whether any bar of `series` ([(name, colour, values, ...)]) has a value."""
    return any(v is not None for s_ in series for v in s_[2])


def empty(ax, title, why):
    ax.set_title(title)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def load_panel(ax, r, family, lines):
    """Load time (p50) against stream length, log-log, one line per entry of `lines`:
    (benchmark arguments besides `events`, label, colour, marker, line style)."""
    lengths = sorted({args["events"] for fam, args, _ in r.runs if fam == family})
    if not lengths:
        empty(ax, "Loading", f"no {family} runs")
        return
    for args, label, colour, marker, style in lines:
        pts = [(n, value(r.find(family, events=n, **args), "p50_us")) for n in lengths]
        pts = [(n, v) for n, v in pts if v is not None]
        if pts:
            ax.plot(*zip(*pts), marker=marker, linestyle=style, color=colour, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(lengths)
    ax.set_xticklabels([fmt(n) for n in lengths])
    ax.set_title("Loading one order (p50, lower is better)")
    ax.set_xlabel("events in the stream (log)")
    ax.set_ylabel("load time (µs, log)")
    ax.legend()


# ---------------------------------------------------------------- the charts

def plot_notification(results_dir):
    """Event notification vs the baseline calling every consumer itself, by fan-out."""
    r = load(results_dir, "notification")
    if r is None:
        return
    fig, (a, b, c, d) = new_figure("Event notification vs synchronous calls (tcp loopback)",
                                   machine_line(results_dir, r), 2, 2)
    event, sync = "BM_Notification_Event", "BM_Notification_Sync"
    consumers = sorted({args["consumers"] for fam, args, _ in r.runs
                        if fam in (event, sync) and args.get("slow") == 0 and "consumers" in args})

    def line(ax, family, key, scale, label, colour, marker):
        pts = [(n, value(r.find(family, consumers=n, slow=0), key)) for n in consumers]
        pts = [(n, v * scale) for n, v in pts if v is not None]
        if pts:
            ax.plot(*zip(*pts), marker=marker, color=colour, label=label)
        return dict(pts)

    # a: what the producer pays per order
    if consumers:
        ev = line(a, event, "seconds", 1e6, "event notification", OURS, "o")
        sy = line(a, sync, "seconds", 1e6, "synchronous baseline", THEIRS, "s")
        for n in consumers:
            if n in ev and n in sy:
                a.annotate(f"{sy[n] / ev[n]:.0f}x", (n, sy[n]), textcoords="offset points",
                           xytext=(0, 7), ha="center", fontsize=8)
        a.set_xscale("log", base=2)
        a.set_yscale("log")
        a.set_ylim(top=a.get_ylim()[1] * 1.6)  # room for the ratios
        a.set_xticks(consumers)
        a.set_xticklabels([str(n) for n in consumers])
        a.set_title("Producer's cost per order (time per order, lower is better)")
        a.set_xlabel("consumers (fan-out)")
        a.set_ylabel("time per order (µs, log)")
        a.legend(title="numbers: baseline ÷ event", title_fontsize=8)
    else:
        empty(a, "Producer's cost per order", "no BM_Notification_* runs")

    # b: end to end, until every consumer has handled every order
    if consumers:
        line(b, event, "e2e_orders_per_s", 1, "event notification", OURS, "o")
        line(b, sync, "e2e_orders_per_s", 1, "synchronous baseline", THEIRS, "s")
        b.set_xscale("log", base=2)
        b.set_yscale("log")
        b.set_xticks(consumers)
        b.set_xticklabels([str(n) for n in consumers])
        b.set_title("End to end: orders handled by every consumer (higher is better)")
        b.set_xlabel("consumers (fan-out)")
        b.set_ylabel("orders per second (log)")
        b.legend()
    else:
        empty(b, "End-to-end throughput", "no BM_Notification_* runs")

    # c: one slow consumer (1 ms per order) among the consumers
    slow_n = sorted({args["consumers"] for fam, args, _ in r.runs
                     if fam in (event, sync) and args.get("slow") == 1})
    if slow_n:
        n = slow_n[0]
        groups = ["all fast", "one slow (1 ms/order)"]
        series = [(name, colour, [scaled(r.find(fam, consumers=n, slow=s), "seconds", 1e6)
                                  for s in (0, 1)])
                  for name, colour, fam in (("event notification", OURS, event),
                                            ("synchronous baseline", THEIRS, sync))]
        grouped_bars(c, groups, series, "time per order (µs, log)", log=True)
        c.legend(loc="upper left")
        c.set_title(f"A slow consumer, {n} consumers: producer's cost per order")
    else:
        empty(c, "A slow consumer", "no /slow:1 runs")

    # d: a consumer down: the outbox grows, the producer keeps its pace
    down = r.values("BM_Notification_OutboxWithConsumerDown", "items_per_second")
    if down:
        orders = [args["orders"] for args, _ in down]
        d.plot(orders, [v for _, v in down], marker="o", color=OURS,
               label="event notification: orders accepted/s")
        d.set_xscale("log")
        d.set_ylim(bottom=0, top=max(v for _, v in down) * 1.3)
        d.set_xlim(min(orders) / 2, max(orders) * 2)
        human_axis(d)
        d.set_xticks(orders)
        d.set_xticklabels([fmt(o) for o in orders])
        for args, v in down:
            e = r.find("BM_Notification_OutboxWithConsumerDown", orders=args["orders"])
            kib = value(e, "outbox_kib")
            if kib is not None:
                d.annotate(f"outbox {kib / 1024:.2f} MiB", (args["orders"], v),
                           textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
        d.set_title("A consumer down: orders placed while it is away\n"
                    "(the baseline fails every order instead)")
        d.set_xlabel("orders placed while the consumer is down (log)")
        d.set_ylabel("orders per second")
        d.legend(loc="lower right")
    else:
        empty(d, "A consumer down", "no BM_Notification_OutboxWithConsumerDown runs")
    save(fig, results_dir, "notification")


def plot_state_transfer(results_dir):
    """Event-carried state transfer: local replica vs asking the owner; what a replica costs."""
    r = load(results_dir, "state-transfer")
    if r is None:
        return
    fig, (a, b, c) = new_figure("Event-carried state transfer vs asking the owner (tcp loopback)",
                                machine_line(results_dir, r), 1, 3, width=15, height=5)

    # a: label latency
    lookup, sync = r.find("BM_StateTransfer_Lookup"), r.find("BM_StateTransfer_Sync_Lookup")
    if lookup or sync:
        grouped_bars(a, ["p50", "p99"],
                     [("local replica (pattern)", OURS,
                       [value(lookup, "p50_us"), value(lookup, "p99_us")]),
                      ("RPC to the owner (baseline)", THEIRS,
                       [value(sync, "p50_us"), value(sync, "p99_us")])],
                     "time per shipping label (µs, log)", log=True)
        a.set_title("Shipping label: data from where? (lower is better)")
        a.set_xlabel("percentile")
    else:
        empty(a, "Shipping label latency", "no BM_StateTransfer_*Lookup runs")

    # b: a new replica going live, by data set size
    conv = r.values("BM_StateTransfer_Converge", "seconds")
    if conv:
        records = [args["records"] for args, _ in conv]
        ms = [v * 1e3 for _, v in conv]
        b.plot(records, ms, marker="o", color=OURS, label="snapshot + apply (pattern)")
        b.set_xscale("log")
        b.set_yscale("log")
        b.set_xticks(records)
        b.set_xticklabels([fmt(x) for x in records])
        for (args, _), y in zip(conv, ms):
            rate = value(r.find("BM_StateTransfer_Converge", records=args["records"]),
                         "records_per_s")
            if rate:
                b.annotate(f"{fmt(rate)} records/s", (args["records"], y),
                           textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
        b.set_xlim(min(records) / 2, max(records) * 2)
        b.set_ylim(min(ms) / 2, max(ms) * 3)
        b.set_title("A new replica goes live: handshake, snapshot, apply")
        b.set_xlabel("records in the data set (log)")
        b.set_ylabel("time to converge (ms, log)")
        b.legend(loc="upper left")
    else:
        empty(b, "Replica convergence", "no BM_StateTransfer_Converge runs")

    # c: the price, in bytes on the wire
    bytes_ = r.find("BM_StateTransfer_BytesPerChange")
    if bytes_:
        names = ["CustomerUpdated\n(full state, pattern)", "thin notification\n(for comparison)",
                 "request + reply\nper label (baseline)"]
        vals = [value(bytes_, "fat_bytes_per_change"), value(bytes_, "thin_bytes_per_change"),
                value(bytes_, "baseline_bytes_per_shipment")]
        plain_bars(c, names, vals, [OURS, "#9ecae1", THEIRS],
                   "The price: bytes on the wire per change / per label", "bytes per message (B)")
    else:
        empty(c, "Bytes on the wire", "no BM_StateTransfer_BytesPerChange run")
    save(fig, results_dir, "state-transfer")


def size_label(b):
    return f"{b} B" if b < 1024 else f"{b // 1024} KiB"


def plot_transport(results_dir):
    """The shared kit vs raw cppzmq: throughput, round trip and pipelined requests, by
    transport and size."""
    r = load(results_dir, "transport")
    if r is None:
        return
    fig, (a, b, c) = new_figure("The shared kit vs raw libzmq (the ceiling)",
                                machine_line(results_dir, r), 3, 1, width=11, height=4.8)
    combos = sorted({(args["transport"], args["bytes"]) for fam, args, _ in r.runs
                     if "transport" in args and "bytes" in args})
    groups = [f"{TRANSPORTS.get(t, t)}\n{size_label(s)}" for t, s in combos]

    def panel(ax, raw_families, kit_family, key, scale, ylabel, title):
        """`raw_families`: [(family, legend)]; the ratio under each kit bar is against the
        first of them."""
        def series(family):
            found = [value(r.find(family, transport=t, bytes=s), key) for t, s in combos]
            return [None if v is None else v * scale for v in found]
        raws = [(legend, series(family)) for family, legend in raw_families]
        kit = series(kit_family)
        if not any(v is not None for _, vals in raws for v in vals + kit):
            empty(ax, title, f"no {raw_families[0][0]} / {kit_family} runs")
            return
        ratios = [f"kit/raw {k / rw:.2f}x" if k is not None and rw else ""
                  for k, rw in zip(kit, raws[0][1])]
        shades = [THEIRS, "#fdae6b"]
        bars = [(legend, shades[i % len(shades)], vals) for i, (legend, vals) in enumerate(raws)]
        bars.append(("shared kit (envelope + codec)", OURS, kit))
        grouped_bars(ax, groups, bars, ylabel, log=None, notes={len(bars) - 1: ratios})
        ax.set_title(title)
        ax.set_xlabel("transport, payload size")

    panel(a, [("BM_Transport_Raw_PubSub", "raw libzmq, one frame"),
              ("BM_Transport_Raw_PubSubTwoFrames", "raw libzmq, topic + payload frames")],
          "BM_Transport_Kit_PubSub", "items_per_second", 1, "messages per second",
          "Pub/sub one-way throughput, 1 publisher → 1 subscriber (higher is better)")
    panel(b, [("BM_Transport_Raw_ReqRep", "raw libzmq REQ/REP")], "BM_Transport_Kit_Rpc",
          "seconds", 1e6, "round trip (µs)",
          "Request-reply round trip, one request at a time (lower is better)")
    panel(c, [("BM_Transport_Raw_DealerRouter", "raw libzmq DEALER → ROUTER echo")],
          "BM_Transport_Kit_RpcPipelined", "items_per_second", 1, "requests per second",
          "Pipelined requests, a DEALER keeping 100 in flight (higher is better)")
    save(fig, results_dir, "transport")


def plot_peers(results_dir):
    """The ZeroMQ kit vs NATS core on the same workloads, same run."""
    r = load(results_dir, "peers")
    if r is None:
        return
    fig, (a, b) = new_figure("ZeroMQ (the shared kit) vs NATS core, tcp loopback",
                             machine_line(results_dir, r), 1, 2, width=14, height=5.2)
    zmq_ps, nats_ps = "BM_Peer_Zmq_PubSub", "BM_Peer_Nats_PubSub"
    combos = sorted({(args["consumers"], args["bytes"]) for fam, args, _ in r.runs
                     if fam in (zmq_ps, nats_ps)})
    if combos:
        groups = [f"{n} consumer{'s' if n > 1 else ''}\n{size_label(s)}" for n, s in combos]
        zmq = [value(r.find(zmq_ps, consumers=n, bytes=s), "items_per_second") for n, s in combos]
        nats = [value(r.find(nats_ps, consumers=n, bytes=s), "items_per_second")
                for n, s in combos]
        grouped_bars(a, groups, [("ZeroMQ kit (brokerless)", OURS, zmq),
                                 ("NATS core (via nats-server)", THEIRS, nats)],
                     "messages published per second\n(each reaches every consumer)")
        a.set_title("Pub/sub throughput, 1 publisher → N consumers (higher is better)")
        a.set_xlabel("consumers, payload size")
        if not any(nats):
            a.text(0.5, 0.6, "no NATS results (nats-server missing?)", transform=a.transAxes,
                   ha="center", va="center", color="grey")
    else:
        empty(a, "Pub/sub throughput", f"no {zmq_ps} / {nats_ps} runs")

    zmq_rr, nats_rr = "BM_Peer_Zmq_RequestReply", "BM_Peer_Nats_RequestReply"
    sizes = sorted({args["bytes"] for fam, args, _ in r.runs if fam in (zmq_rr, nats_rr)})
    if sizes:
        groups = [size_label(s) for s in sizes]
        series = []
        for name, colour, fam in (("ZeroMQ kit RPC", OURS, zmq_rr),
                                  ("NATS request", THEIRS, nats_rr)):
            for pct, hatch in (("p50", None), ("p99", "//")):
                series.append((f"{name}, {pct}", colour,
                               [value(r.find(fam, bytes=s), f"{pct}_us") for s in sizes], hatch))
        grouped_bars(b, groups, series, "round trip (µs)")
        b.set_title("Request-reply round trip, one request at a time (lower is better)")
        b.set_xlabel("payload size (each way)")
    else:
        empty(b, "Request-reply round trip", f"no {zmq_rr} / {nats_rr} runs")
    save(fig, results_dir, "peers")


def plot_codec(results_dir):
    """What encoding and decoding one event costs, by payload encoding."""
    r = load(results_dir, "codec")
    if r is None:
        return
    fig, (a,) = new_figure("Codec: the cost of one event", machine_line(results_dir, r), 1, 1,
                           width=9, height=4.8)
    formats = [("Positional", "MessagePack, positional\n(the kit's payloads)"),
               ("Named", "MessagePack, named\n(map)"), ("Json", "JSON\n(nlohmann)")]
    groups = [label for _, label in formats] + ["kit envelope\n(metadata + positional)"]
    enc = [value(r.find(f"BM_Codec_Encode/{f}"), "per_op") for f, _ in formats]
    dec = [value(r.find(f"BM_Codec_Decode/{f}"), "per_op") for f, _ in formats]
    enc.append(value(r.find("BM_Envelope_Encode"), "per_op"))
    dec.append(value(r.find("BM_Envelope_Decode"), "per_op"))
    if not any(v is not None for v in enc + dec):
        empty(a, "Codec", "no per_op counters")
    else:
        # per_op is an inverted rate counter: CPU seconds per operation
        enc = [None if v is None else v * 1e9 for v in enc]
        dec = [None if v is None else v * 1e9 for v in dec]
        grouped_bars(a, groups, [("encode", OURS, enc), ("decode", THEIRS, dec)],
                     "CPU time per event (ns)")
        a.set_title("Encode / decode one six-field event (lower is better)")
        a.set_xlabel("encoding")
    save(fig, results_dir, "codec")


def plot_sourcing(results_dir):
    """Event sourcing: appends, group commit, loads, replay, commands and bytes, vs CRUD."""
    r = load(results_dir, "sourcing")
    if r is None:
        return
    fig, (a, b, c, d, e, f) = new_figure("Event sourcing vs CRUD (SQLite, same disk, same run)",
                                         machine_line(results_dir, r), 2, 3, width=16, height=5)

    # a: appends per transaction, FULL and NORMAL
    sizes = [1, 10, 100]
    full = [value(r.find("BM_Sourcing_Append", events=n, durability=1), "items_per_second")
            for n in sizes]
    normal = [value(r.find("BM_Sourcing_Append", events=n, durability=0), "items_per_second")
              for n in sizes]
    if any(full + normal):
        grouped_bars(a, [str(n) for n in sizes],
                     [("synchronous=FULL", OURS, full), ("synchronous=NORMAL", "#9ecae1", normal)],
                     "events appended per second (log)", log=True)
        a.set_title("Appends: events per transaction share one commit")
        a.set_xlabel("events per transaction")
    else:
        empty(a, "Appends", "no BM_Sourcing_Append runs")

    # b: group commit through the service
    clients = [1, 8, 32]
    service = [r.find("BM_Sourcing_Service", clients=n, group=1) for n in clients]
    single = [r.find("BM_Sourcing_Service", clients=n, group=0) for n in clients]
    no_disk = [r.find("BM_Sourcing_Service_NoDisk", clients=n) for n in clients]
    if any(service):
        series = [("group commit", OURS, [value(s_, "items_per_second") for s_ in service]),
                  ("one commit (one fsync) per event", THEIRS,
                   [value(s_, "items_per_second") for s_ in single])]
        if any(no_disk):  # the ceiling: the same service and writers, nothing stored on disk
            series.append(("no disk (in-memory store): the messaging's ceiling", "#bdbdbd",
                           [value(s_, "items_per_second") for s_ in no_disk]))
        grouped_bars(b, [str(n) for n in clients], series,
                     "events appended per second (log)", log=True,
                     notes={0: [f"{fmt(value(s_, 'events_per_commit'))}/commit" for s_ in service]})
        b.set_title("Store service: concurrent one-event writers\n(durable, FULL; grey: nothing on disk)")
        b.set_xlabel("concurrent writers")
    else:
        empty(b, "Group commit", "no BM_Sourcing_Service runs")

    # c: load latency as the stream grows
    load_panel(c, r, "BM_Sourcing_Load",
               [({"snapshots": 0}, "full replay", THEIRS, "s", "-"),
                ({"snapshots": 1}, "snapshot every 100 + tail", OURS, "o", "-")])

    # d: replay throughput against the raw scan
    replay = [value(r.find(name), "items_per_second") for name in
              ("BM_Sourcing_Replay", "BM_Sourcing_Replay_ReadOnly", "BM_Sourcing_Replay_RawSqlite")]
    if any(replay):
        plain_bars(d, ["read, decode,\nupcast, evolve", "read, decode", "raw SQLite scan\n(no decoding)"],
                   replay, [OURS, "#9ecae1", "#7f7f7f"], "Replaying the whole store",
                   "events per second", human=True)
    else:
        empty(d, "Replay", "no BM_Sourcing_Replay runs")

    # e: a command end to end
    cmd = [[value(r.find(fam, durability=dur), "items_per_second") for dur in (1, 0)]
           for fam in ("BM_Sourcing_Command", "BM_Sourcing_Crud_Command")]
    if any(cmd[0] + cmd[1]):
        grouped_bars(e, ["FULL", "NORMAL"],
                     [("event store (load, decide, append)", OURS, cmd[0]),
                      ("CRUD (read row, decide, update)", THEIRS, cmd[1])],
                     "commands per second (log)", log=True)
        e.set_title("One command end to end")
        e.set_xlabel("durability")
    else:
        empty(e, "Commands", "no BM_Sourcing_*Command runs")

    # f: bytes on disk per command
    bytes_ = r.find("BM_Sourcing_BytesPerChange")
    if bytes_:
        vals = [value(bytes_, "store_bytes_per_command"), value(bytes_, "crud_bytes_per_command")]
        plain_bars(f, ["event store\n(every change kept)", "CRUD\n(the present only)"], vals,
                   [OURS, THEIRS], "The price of history: bytes on disk per command",
                   "bytes per command (B)")
    else:
        empty(f, "Bytes per command", "no BM_Sourcing_BytesPerChange run")
    save(fig, results_dir, "sourcing")


def plot_cqrs(results_dir):
    """CQRS: query latency as the history grows, projection lag, rebuild, vs one model."""
    r = load(results_dir, "cqrs")
    if r is None:
        return
    fig, panels = new_figure("CQRS vs a single model (SQLite, same history, same run)",
                             machine_line(results_dir, r), 2, 3, width=16, height=5)

    # a-d: each query's p99 as the history grows
    queries = [("customer_orders", "A customer's orders"),
               ("sales_by_day", "Sales per product per day, 7 days"),
               ("sales_by_day_all", "Sales per product per day, 90 days"),
               ("awaiting_shipment", "The next 20 orders to ship")]
    for ax, (query, title) in zip(panels, queries):
        drawn = False
        for family, label, colour, marker in (("BM_Cqrs_Query", "CQRS read model", OURS, "o"),
                                              ("BM_SingleModel_Query", "single model (joins)", THEIRS, "s")):
            pts = [(args["events"], v) for args, v in r.values(f"{family}/{query}", "p99_us")]
            if pts:
                ax.plot(*zip(*pts), marker=marker, color=colour, label=label)
                drawn = True
        if not drawn:
            empty(ax, title, f"no {query} runs")
            continue
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{title} (p99, lower is better)")
        ax.set_xlabel("events in the history (log)")
        ax.set_ylabel("query time p99 (µs, log)")
        ax.legend()

    # e: projection lag at a steady command rate
    rates = sorted({args["commands_per_second"] for fam, args, _ in r.runs
                    if fam == "BM_Cqrs_ProjectionLag"})
    lag = [r.find("BM_Cqrs_ProjectionLag", commands_per_second=n, durability=1) for n in rates]
    if any(lag):
        grouped_bars(panels[4], [f"{n}/s" for n in rates],
                     [("p50", OURS, [scaled(e, "lag_p50_us", 1e-3) for e in lag]),
                      ("p99", "#9ecae1", [scaled(e, "lag_p99_us", 1e-3) for e in lag])],
                     "write to readable (ms)")
        panels[4].set_title("Projection lag, commands over tcp, store FULL")
        panels[4].set_xlabel("steady command rate")
    else:
        empty(panels[4], "Projection lag", "no BM_Cqrs_ProjectionLag runs")

    # f: rebuild throughput
    rebuild = r.values("BM_Cqrs_Rebuild", "items_per_second")
    if rebuild:
        plain_bars(panels[5], [f"{fmt(args['events'])} events" for args, _ in rebuild],
                   [v for _, v in rebuild], [OURS] * len(rebuild),
                   "Rebuilding all three read models", "events per second", human=True)
    else:
        empty(panels[5], "Rebuild", "no BM_Cqrs_Rebuild runs")
    save(fig, results_dir, "cqrs")


SQLITE, SQLITE_LIGHT = "#1f77b4", "#9ecae1"
POSTGRES, POSTGRES_LIGHT = "#2ca02c", "#a1d99b"


def plot_event_stores(results_dir):
    """The same event store contract on SQLite and on PostgreSQL, same run."""
    r = load(results_dir, "event-stores")
    if r is None:
        return
    stores = [s_ for s_ in ("sqlite", "postgres")
              if any(args.get("store") == s_ for _, args, _ in r.runs)]
    note = "" if "postgres" in stores else " (PostgreSQL not measured in this run)"
    fig, (a, b, c, d, e, f) = new_figure("The event store on SQLite and on PostgreSQL" + note,
                                         machine_line(results_dir, r), 2, 3, width=18,
                                         height=4.8)
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    colour = {"sqlite": (SQLITE, SQLITE_LIGHT), "postgres": (POSTGRES, POSTGRES_LIGHT)}

    # a: one transaction of N events, durable and not
    sizes = [1, 10, 100]
    series = []
    for store in stores:
        for durable, shade, how in ((1, 0, "durable"), (0, 1, "not durable")):
            series.append((f"{label[store]}, {how}", colour[store][shade],
                           [value(r.find("BM_Stores_Append", store=store, events=n,
                                         durability=durable), "items_per_second")
                            for n in sizes]))
    if any(v for s_ in series for v in s_[2]):
        grouped_bars(a, [str(n) for n in sizes], series, "events appended per second (log)",
                     log=True)
        a.set_title("One writer: events per transaction share one commit")
        a.set_xlabel("events per transaction")
    else:
        empty(a, "Appends", "no BM_Stores_Append runs")

    # b: concurrent one-event writers, each on its own connection or through the service
    clients = [1, 8, 32]
    series = []
    for store in stores:
        series.append((f"{label[store]}, a connection each", colour[store][0],
                       [value(r.find("BM_Stores_Writers", store=store, clients=n),
                              "items_per_second") for n in clients]))
        series.append((f"{label[store]}, through the store service", colour[store][1],
                       [value(r.find("BM_Stores_Service", store=store, clients=n),
                              "items_per_second") for n in clients], "//"))
    if any(v for s_ in series for v in s_[2]):
        grouped_bars(b, [str(n) for n in clients], series, "durable events per second (log)",
                     log=True)
        b.set_title("Concurrent writers, one durable event per append")
        b.set_xlabel("concurrent writers")
    else:
        empty(b, "Writers", "no BM_Stores_Writers runs")

    # c: load latency as the stream grows
    load_panel(c, r, "BM_Stores_Load",
               [({"store": store, "snapshots": snaps}, f"{label[store]}, {how}",
                 colour[store][0], marker, style)
                for store in stores
                for snaps, how, marker, style in ((0, "full replay", "s", "--"),
                                                  (1, "snapshot every 100 + tail", "o", "-"))])

    # d: replay
    replay = [value(r.find("BM_Stores_Replay", store=store), "items_per_second")
              for store in stores]
    if any(replay):
        plain_bars(d, [label[s_] for s_ in stores], replay, [colour[s_][0] for s_ in stores],
                   "Replaying the whole store: read, decode, evolve", "events per second",
                   human=True)
    else:
        empty(d, "Replay", "no BM_Stores_Replay runs")

    # e: one command end to end (what the CQRS command side does per command)
    command = [r.find("BM_Stores_Command", store=store) for store in stores]
    if any(command):
        plain_bars(e, [f"{label[s_]}\np50 {fmt(value(c_, 'p50_us'))} µs" for s_, c_ in
                       zip(stores, command)],
                   [value(c_, "items_per_second") for c_ in command],
                   [colour[s_][0] for s_ in stores],
                   "One order command: load, decide, durable append", "commands per second",
                   human=True)
    else:
        empty(e, "Commands", "no BM_Stores_Command runs")
    f.axis("off")
    save(fig, results_dir, "event-stores")


# ---------------------------------------------------------------- scaling, saga, brokers

GREY = "#7f7f7f"


def plot_scaling(results_dir):
    """Partitioned consumer group vs competing consumers vs a synchronous pool, by members;
    rebalancing with a member's turn at 1 and 32 events; lag drained after joins."""
    r = load(results_dir, "scaling")
    if r is None:
        return
    fig, (a, b, c, d) = new_figure(
        "Partitioned consumer group vs competing consumers vs a synchronous pool (tcp loopback, "
        "1 ms gateway call)", machine_line(results_dir, r), 2, 2, width=14)
    group, unkeyed, sync = "BM_Scaling_Group", "BM_Scaling_Unkeyed", "BM_Scaling_Sync"
    sizes = sorted({args.get("members") for fam, args, _ in r.runs if fam == group} - {None})

    # a: throughput by members
    if sizes:
        rows = [(name, colour, [value(r.find(fam, **{key: n}), "items_per_second") for n in sizes])
                for name, colour, fam, key in (
                    ("partitioned group (keeps each order's events in order)", OURS, group,
                     "members"),
                    ("competing consumers (no keys)", THEIRS, unkeyed, "workers"),
                    ("synchronous pool (caller waits for each call)", GREY, sync, "servers"))]
        grouped_bars(a, [str(n) for n in sizes], rows, "events per second", log=False)
        a.set_title("Draining a backlog (higher is better)")
        a.set_xlabel("members / workers / servers")
    else:
        empty(a, "Throughput", f"no {group} runs")

    # b: what each design costs in order
    if sizes:
        grouped_bars(b, [str(n) for n in sizes],
                     [("partitioned group", OURS,
                       [value(r.find(group, members=n), "order_violations") for n in sizes]),
                      ("competing consumers", THEIRS,
                       [value(r.find(unkeyed, workers=n), "order_violations") for n in sizes])],
                     "events charged after a later step of their order", log=False)
        b.set_title("Order violations (lower is better; the group's are 0)")
        b.set_xlabel("members / workers")
    else:
        empty(b, "Order violations", f"no {group} runs")

    # c: rebalance, a member's turn at 1 event and at 32
    turns = [(1, "turn 1 event (default)", OURS), (32, "turn 32 events", "#9ecae1")]
    # "moved": partitions that changed owner, resuming; "unmoved": the others meanwhile
    measures = [("kill_resume_p50_ms", "kill\nmoved\np50"),
                ("kill_resume_max_ms", "kill\nmoved\nmax"),
                ("kill_unmoved_p99_ms", "kill\nunmoved\np99"),
                ("kill_steady_p99_ms", "kill\nsteady\np99"),
                ("join_resume_p50_ms", "join\nmoved\np50"),
                ("join_resume_max_ms", "join\nmoved\nmax"),
                ("join_unmoved_p99_ms", "join\nunmoved\np99"),
                ("join_steady_p99_ms", "join\nsteady\np99")]
    rebalance = [r.find("BM_Scaling_Rebalance", turn=t) for t, _, _ in turns]
    if any(rebalance):
        grouped_bars(c, [label for _, label in measures],
                     [(name, colour, [value(e, key) for key, _ in measures])
                      for (_, name, colour), e in zip(turns, rebalance)],
                     "wait of a charge (ms)", log=False)
        c.set_title("Rebalancing at 1 000 events/s: a member SIGKILLed, a member joining\n"
                    "(lower is better; moved partitions' resume counted from the decision)")
        c.tick_params(axis="x", labelsize=8)
    else:
        empty(c, "Rebalance", "no BM_Scaling_Rebalance runs")

    # d: lag (events published, not yet charged) sampled every 500 ms
    lag = r.find("BM_Scaling_Lag")
    points = sorted((int(m.group(1)), v) for k, v in (lag or {}).items()
                    if (m := re.fullmatch(r"lag_at_(\d+)ms", k)) and isinstance(v, (int, float)))
    if points:
        d.plot([t / 1000 for t, _ in points], [v for _, v in points], marker="o", color=OURS,
               label="partitioned group")
        drained = value(lag, "drained_after_joins_ms")
        if drained is not None:
            d.text(0.98, 0.95, f"lag drained {fmt(drained)} ms after the joins", ha="right",
                   va="top",
                   transform=d.transAxes, fontsize=9)
        d.set_ylim(bottom=0)
        d.set_title("Lag drained over time: one member overloaded, then three more join")
        d.set_xlabel("seconds since the start")
        d.set_ylabel("events published, not yet charged")
        d.legend(loc="upper left")
    else:
        empty(d, "Lag", "no BM_Scaling_Lag run")
    save(fig, results_dir, "scaling")


def plot_saga(results_dir):
    """The checkout saga (outbox + orchestrator) vs a synchronous checkout; outbox vs dual write
    under SIGKILL; the fault matrix; the outbox relay's lag."""
    r = load(results_dir, "saga")
    if r is None:
        return
    fig, (a, b, c, d, e, f) = new_figure(
        "Checkout saga (outbox + orchestrator) vs a synchronous checkout (SQLite, tcp loopback)",
        machine_line(results_dir, r), 2, 3, width=18, height=5)
    cases = [("0% declined", dict(decline_pct=0, slow_ms=0, down_ms=0)),
             ("1% declined", dict(decline_pct=1, slow_ms=0, down_ms=0)),
             ("10% declined", dict(decline_pct=10, slow_ms=0, down_ms=0)),
             ("shipping slow\n(10 ms a booking)", dict(decline_pct=0, slow_ms=10, down_ms=0)),
             ("shipping down\nfor 1 s", dict(decline_pct=0, slow_ms=0, down_ms=1000))]
    saga = [r.find("BM_Saga_Checkout", **args) for _, args in cases]
    sync = [r.find("BM_Sync_Checkout", **args) for _, args in cases]
    groups = [label for label, _ in cases]

    # a: checkouts per second
    if any(saga + sync):
        grouped_bars(a, groups,
                     [("saga, 32 in flight", OURS, [value(x, "checkouts_per_second") for x in saga]),
                      ("synchronous, one at a time", THEIRS,
                       [value(x, "checkouts_per_second") for x in sync])],
                     "checkouts per second", log=False)
        a.set_title("Throughput (higher is better)")
        a.tick_params(axis="x", labelsize=8)
    else:
        empty(a, "Throughput", "no BM_Saga_Checkout / BM_Sync_Checkout runs")

    # b: completion time, p50 and p99
    if any(saga + sync):
        series = []
        for name, colour, entries in (("saga", OURS, saga), ("synchronous", THEIRS, sync)):
            for pct, hatch in (("p50", None), ("p99", "//")):
                series.append((f"{name}, {pct}", colour,
                               [scaled(x, f"{pct}_us", 1e-3) for x in entries], hatch))
        grouped_bars(b, groups, series, "completion time (ms)", log=True)
        b.set_title("Completion time of a checkout (lower is better)")
        b.tick_params(axis="x", labelsize=8)
    else:
        empty(b, "Completion time", "no BM_Saga_Checkout / BM_Sync_Checkout runs")

    # c: SIGKILL loops, the outbox against writing the row and publishing apart
    kills = [r.find("BM_Outbox_KillLoop"), r.find("BM_DualWrite_KillLoop")]
    if any(kills):
        names = ["outbox\n(row + event, one transaction)", "dual write\n(commit, then publish)"]
        grouped_bars(c, names,
                     [("committed", OURS, [value(k, "committed") for k in kills]),
                      ("committed but never published (lost)", THEIRS,
                       [value(k, "lost") for k in kills])],
                     "orders", log=False)
        killed = value(kills[0] or kills[1], "kills")
        c.set_ylim(top=c.get_ylim()[1] * 1.2)  # room for the legend above the bars
        c.legend(loc="upper center")
        c.set_title(f"The writer SIGKILLed {fmt(killed)} times (lost: lower is better)")
    else:
        empty(c, "Kill loops", "no BM_Outbox_KillLoop / BM_DualWrite_KillLoop runs")

    # d: the fault matrix: how 10 000 sagas ended with faults injected
    matrix = r.find("BM_Saga_FaultMatrix")
    if matrix:
        outcomes = [("completed", OURS), ("rolled_back", "#9ecae1"), ("stuck", THEIRS),
                    ("violations", THEIRS)]
        faults = [("declined", GREY), ("timeouts", GREY), ("crashes", GREY),
                  ("duplicates", GREY), ("refunds_refused", GREY)]
        plain_bars(d, [k.replace("_", "\n") for k, _ in outcomes + faults],
                   [value(matrix, k) for k, _ in outcomes + faults],
                   [c_ for _, c_ in outcomes + faults],
                   f"Fault matrix: {fmt(value(matrix, 'sagas'))} sagas, faults injected\n"
                   "(blue: how they ended; orange: must be 0; grey: faults met)", "sagas / faults")
        d.tick_params(axis="x", labelsize=8)
    else:
        empty(d, "Fault matrix", "no BM_Saga_FaultMatrix run")

    # e: the outbox relay's lag at the asked rate
    relay = [(args, x) for fam, args, x in r.runs if fam == "BM_Outbox_RelayLag"]
    if relay:
        args, x = sorted(relay, key=lambda ax_: ax_[0].get("writes_per_second", 0))[-1]
        plain_bars(e, ["commit\np50", "commit\np99", "relay lag\np50", "relay lag\np99",
                       "relay lag\nmax"],
                   [scaled(x, k, 1e-3) for k in ("commit_p50_us", "commit_p99_us",
                                                 "lag_p50_us", "lag_p99_us", "lag_max_us")],
                   [GREY, GREY, OURS, OURS, OURS],
                   f"Outbox relay: {fmt(args.get('writes_per_second'))} writes/s asked, "
                   f"{fmt(value(x, 'writes_per_second'))}/s reached\n"
                   "(commit with its fsync; lag: commit to published)", "ms")
    else:
        empty(e, "Relay lag", "no BM_Outbox_RelayLag runs")
    f.axis("off")
    save(fig, results_dir, "saga")


# One colour per durable transport, the kit's log in the kit's colour.
BROKERS = [("ZeroMQ", "ZeroMQ (kit + SQLite log)", OURS), ("JetStream", "NATS JetStream", THEIRS),
           ("RabbitMQ", "RabbitMQ", "#9467bd")]


def plot_brokers(results_dir):
    """The same events over the three durable transports: the highest rate within a p99 bar,
    latency at a fixed rate, catch-up after a backlog, CPU per event."""
    r = load(results_dir, "brokers")
    if r is None:
        return
    fig, (a, b, c, d) = new_figure("The same events over three durable transports: ZeroMQ "
                                   "(kit + SQLite log) vs NATS JetStream vs RabbitMQ, "
                                   "64 deliveries in flight",
                                   machine_line(results_dir, r), 2, 2, width=15, height=5)
    combos = sorted({(args["consumers"], args["bytes"]) for fam, args, _ in r.runs
                     if fam.startswith("BM_Broker_") and "consumers" in args and "bytes" in args})
    groups = [f"{n} consumer{'s' if n > 1 else ''}\n{size_label(s)}" for n, s in combos]

    def by_combo(kind, key, scale=1.0):
        """[(transport, colour, values by consumers and size)] for BM_Broker_<name>_<kind>."""
        return [(label, colour, [scaled(r.find(f"BM_Broker_{name}_{kind}", consumers=n, bytes=s),
                                        key, scale) for n, s in combos])
                for name, label, colour in BROKERS]

    # a: the highest rate of the ladder whose one-second step kept p99 within 10 ms
    series = by_combo("MaxRate", "max_rate_per_s")
    if combos and measured(series):
        grouped_bars(a, groups, series, "events per second", log=False)
        a.set_title("Highest rate with p99 ≤ 10 ms (higher is better; 0: not met at any rate)")
    else:
        empty(a, "Highest rate within the bar", "no BM_Broker_*_MaxRate runs")

    # b: p50 and p99 at the fixed rate
    series = []
    for name, label, colour in BROKERS:
        for pct, hatch in (("p50", None), ("p99", "//")):
            series.append((f"{label}, {pct}", colour,
                           [scaled(r.find(f"BM_Broker_{name}_FixedRate", consumers=n, bytes=s),
                                   f"{pct}_us", 1e-3) for n, s in combos], hatch))
    if combos and measured(series):
        grouped_bars(b, groups, series, "publish to handled (ms)", log=True)
        b.set_title("Latency at 5 000 events/s (lower is better)")
        b.legend(fontsize=7, ncol=3, loc="upper left")
    else:
        empty(b, "Latency at a fixed rate", "no BM_Broker_*_FixedRate runs")

    # c: a consumer back after a backlog
    sizes = sorted({args["bytes"] for fam, args, _ in r.runs
                    if fam.endswith("_CatchUp") and "bytes" in args})
    series = [(label, colour, [value(r.find(f"BM_Broker_{name}_CatchUp", bytes=s), "catch_up_s")
                               for s in sizes])
              for name, label, colour in BROKERS]
    if measured(series):
        backlog = value(next((x for fam, _, x in r.runs if fam.endswith("_CatchUp")), None),
                        "backlog")
        grouped_bars(c, [size_label(s) for s in sizes], series, "seconds to catch up", log=False)
        c.set_title(f"A service back after {fmt(backlog)} events: catching up (lower is better)")
        c.set_xlabel("event size")
    else:
        empty(c, "Catch-up", "no BM_Broker_*_CatchUp runs")

    # d: CPU per million events at the fixed rate; the server's share noted under each bar
    series = by_combo("FixedRate", "cpu_s_per_M")
    notes = {i: [f"server {fmt(v)}" if v is not None else "" for v in s_[2]]
             for i, s_ in enumerate(by_combo("FixedRate", "server_cpu_s_per_M"))}
    if combos and measured(series):
        grouped_bars(d, groups, series, "CPU seconds per million events", log=False, notes=notes)
        d.set_title("CPU at 5 000 events/s, all processes (lower is better)\n"
                    "ZeroMQ has no broker: its log runs in the benchmark's process")
        d.tick_params(axis="x", labelsize=8)
    else:
        empty(d, "CPU per event", "no BM_Broker_*_FixedRate runs")
    save(fig, results_dir, "brokers")


def plot_brokers_kv(results_dir):
    """State transfer on the JetStream KV bucket vs the kit's ZeroMQ replica."""
    r = load(results_dir, "brokers-kv")
    if r is None:
        return
    fig, (a, b) = new_figure("Event-carried state transfer: the kit's ZeroMQ replica vs the "
                             "JetStream KV bucket", machine_line(results_dir, r), 1, 2,
                             width=13, height=5)
    sides = [("ZeroMQ", "ZeroMQ replica (snapshot + updates)", OURS),
             ("KV", "JetStream KV bucket (watch)", THEIRS)]
    records = sorted({args["records"] for fam, args, _ in r.runs
                      if fam.startswith("BM_Replica_Converge_") and "records" in args})
    if records:
        grouped_bars(a, [fmt(n) for n in records],
                     [(label, colour, [value(r.find(f"BM_Replica_Converge_{name}", records=n),
                                             "records_per_s") for n in records])
                      for name, label, colour in sides],
                     "records per second", log=True)
        a.set_title("A new replica going live (higher is better)")
        a.set_xlabel("records in the data set")
    else:
        empty(a, "Converge", "no BM_Replica_Converge_* runs")

    lags = [next((x for fam, _, x in r.runs if fam == f"BM_Replica_Lag_{name}"), None)
            for name, _, _ in sides]
    if any(lags):
        rate = next((args.get("rate") for fam, args, _ in r.runs
                     if fam.startswith("BM_Replica_Lag_")), None)
        grouped_bars(b, ["p50", "p99", "max"],
                     [(label, colour, [scaled(x, k, 1e-3) for k in
                                       ("lag_p50_us", "lag_p99_us", "lag_max_us")])
                      for (_, label, colour), x in zip(sides, lags)],
                     "update to visible in the replica (ms)", log=True)
        b.legend(loc="upper left")
        b.set_title(f"Replica lag at {fmt(rate)} updates/s (lower is better)")
    else:
        empty(b, "Replica lag", "no BM_Replica_Lag_* runs")
    save(fig, results_dir, "brokers-kv")


def plot_brokers_groups(results_dir):
    """Consumer groups on the brokers: JetStream vs RabbitMQ, by members; takeover time."""
    r = load(results_dir, "brokers-groups")
    if r is None:
        return
    fig, (a, b) = new_figure("Keyed consumer groups on the brokers: NATS JetStream vs RabbitMQ",
                             machine_line(results_dir, r), 1, 2, width=13, height=5)
    sides = [(name, label, colour) for name, label, colour in BROKERS if name != "ZeroMQ"]
    members = sorted({args["members"] for fam, args, _ in r.runs
                      if fam.startswith("BM_Group_") and "members" in args})
    if members:
        entries = [[r.find(f"BM_Group_{name}", members=n) for n in members]
                   for name, _, _ in sides]
        grouped_bars(a, [str(n) for n in members],
                     [(label, colour, [value(x, "events_per_s") for x in row])
                      for (_, label, colour), row in zip(sides, entries)],
                     "events per second", log=False,
                     notes={i: [f"{fmt(value(x, 'members_working'))} working" if x else ""
                                for x in row] for i, row in enumerate(entries)})
        a.set_title("Billing a backlog (higher is better)\n"
                    "notes: members that billed anything")
        a.set_xlabel("members in the group")
    else:
        empty(a, "Groups", "no BM_Group_* runs")

    takeover = [value(r.find(f"BM_Group_{name}_Takeover"), "takeover_ms") for name, _, _ in sides]
    if any(v is not None for v in takeover):
        plain_bars(b, [label for _, label, _ in sides], takeover, [c_ for _, _, c_ in sides],
                   "A member gone holding an event: until another charges it\n"
                   "(lower is better)", "ms")
    else:
        empty(b, "Takeover", "no BM_Group_*_Takeover runs")
    save(fig, results_dir, "brokers-groups")


CHARTS = [plot_notification, plot_state_transfer, plot_sourcing, plot_event_stores, plot_cqrs,
          plot_transport, plot_peers, plot_codec, plot_scaling, plot_saga, plot_brokers,
          plot_brokers_kv, plot_brokers_groups]


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    results_dir = Path(argv[1])
    if not results_dir.is_dir():
        print(f"plot.py: {results_dir} is not a folder", file=sys.stderr)
        return 1
    for chart in CHARTS:
        chart(results_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

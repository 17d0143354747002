"""The benchmark's results as a markdown page (``bench/results.md``)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

import django
from django.apps import apps
from django.db import connection
from django.utils import timezone

from .measure import CPU_CHECK_LOOPS, RUNS, Result

COUNTED = [
    ("clients", "intake.Client"),
    ("inquiries", "intake.Inquiry"),
    ("inquiry timeline steps", "intake.InquiryStatusChange"),
    ("waitlist entries", "intake.WaitlistEntry"),
    ("enrollments", "programs.Enrollment"),
    ("group sessions", "programs.GroupSession"),
    ("attendance", "programs.Attendance"),
    ("appointments", "programs.Appointment"),
    ("assessments", "programs.Assessment"),
    ("treatment plans", "programs.TreatmentPlan"),
    ("discharge plans", "discharge.DischargePlan"),
    ("follow-ups", "discharge.FollowUp"),
]


@dataclass
class Run:
    tuned: list[Result]
    naive: dict[str, Result] = field(default_factory=dict)
    demo_queries: dict[str, int] = field(default_factory=dict)
    dropped_indexes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_check_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0


def key(result: Result) -> str:
    return f"{result.page.section}: {result.page.label}"


def dataset_counts() -> list[tuple[str, int]]:
    return [(name, apps.get_model(label).objects.count()) for name, label in COUNTED]


def server_settings() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    return (
        f"PostgreSQL {version} (shared_buffers {buffers}, work_mem {work_mem}, "
        f"jit {jit}; server defaults, nothing tuned for the benchmark)"
    )


def cpu_line(run: Run) -> list[str]:
    if not run.cpu_check_ms:
        return []
    low, high = min(run.cpu_check_ms), max(run.cpu_check_ms)
    return [
        f"- CPU check: {CPU_CHECK_LOOPS:,} pure-Python additions took {low:.0f} to "
        f"{high:.0f} ms ({len(run.cpu_check_ms)} runs, half before the pages and half "
        "after). The pages are mostly Python, so their times move with this figure: "
        "compare runs by it."
    ]


def cell_ms(ms: float) -> str:
    return f"{ms:,.0f}" if ms >= 10 else f"{ms:.1f}"


def render(run: Run) -> str:
    now = timezone.localtime()
    cores = os.cpu_count()
    lines = [
        "# Benchmark results",
        "",
        f"Measured {now:%Y-%m-%d %H:%M %Z} by `make bench` (the measuring took "
        f"{run.seconds / 60:.1f} min). In-process (Django test client, no network), "
        f"warm-up then the median of {RUNS} requests per page.",
        "",
        f"- Machine: {cores} cores, load average {run.load_before[0]:.1f} before and "
        f"{run.load_after[0]:.1f} after (other jobs may share the cores); "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{server_settings()}.",
        *cpu_line(run),
        "- Dataset (`generate_scale_data`, default size): "
        + ", ".join(f"{name} {count:,}" for name, count in dataset_counts())
        + ".",
        "- Goals: list pages and the index under 100 ms, change pages under 50 ms; "
        "query counts the same on the demo-sized dataset (300 clients) as here; no "
        "sequential scan of clients, inquiries, enrollments, attendance (or any "
        "table over 100,000 rows); no whole-table COUNT(*) on such tables.",
        "- Naive: the same pages with `list_select_related = False`, Django's "
        "`Paginator`, `show_full_result_count = True` on every ModelAdmin and the "
        f"{len(run.dropped_indexes)} trigram indexes dropped (in a transaction "
        "rolled back afterwards).",
        "- Queries: all queries of one request; in brackets those about the page's "
        "data (not the session, user, permissions or access audit).",
        "",
        "| Page | Tuned ms | Queries | Demo-size queries | HTML KB | Goal | Naive ms "
        "| Naive queries | Naive / tuned | Plan flags |",
        "|---|--:|--:|--:|--:|:-:|--:|--:|--:|---|",
    ]
    section = ""
    for result in run.tuned:
        if result.page.section != section:
            section = result.page.section
            lines.append(f"| **{section}** | | | | | | | | | |")
        naive = run.naive.get(key(result))
        demo = run.demo_queries.get(key(result))
        goal = {True: "ok", False: "**over**", None: "-"}[result.meets_goal]
        flags = [f"Seq Scan {name}" for name in sorted(result.seq_scans)]
        flags += [f"COUNT(*) {name}" for name in sorted(result.whole_counts)]
        if result.status != 200:
            flags.append(f"HTTP {result.status}")
        flat = "" if demo is None or demo == result.queries else " **(differs)**"
        lines.append(
            "| "
            + " | ".join(
                [
                    result.page.label,
                    cell_ms(result.ms),
                    f"{result.queries} ({result.data_queries})",
                    "-" if demo is None else f"{demo}{flat}",
                    f"{result.html_bytes / 1024:,.0f}",
                    goal,
                    cell_ms(naive.ms) if naive else "-",
                    str(naive.queries) if naive else "-",
                    f"{naive.ms / result.ms:,.1f}x" if naive and result.ms else "-",
                    ", ".join(flags) or "none",
                ]
            )
            + " |"
        )
    lines += ["", *summary(run)]
    return "\n".join(lines) + "\n"


def summary(run: Run) -> list[str]:
    timed = [r for r in run.tuned if r.meets_goal is not None]
    met = [r for r in timed if r.meets_goal]
    flagged = [r for r in run.tuned if r.seq_scans or r.whole_counts]
    differing = [
        key(r)
        for r in run.tuned
        if key(r) in run.demo_queries and run.demo_queries[key(r)] != r.queries
    ]
    lines = ["## Summary", ""]
    lines.append(f"- Time goals met: {len(met)} of {len(timed)} pages.")
    over = [f"{key(r)} ({cell_ms(r.ms)} ms)" for r in timed if not r.meets_goal]
    if over:
        lines.append(f"- Over the goal: {'; '.join(over)}.")
    lines.append(
        "- Sequential scans or whole-table counts of big tables: "
        + ("none." if not flagged else "; ".join(key(r) for r in flagged) + ".")
    )
    if run.demo_queries:
        lines.append(
            "- Query counts, demo size vs full size: "
            + (
                "the same on every page."
                if not differing
                else "differ on " + "; ".join(differing) + "."
            )  # fmt: skip
        )
    if run.naive:
        ratios = sorted(
            run.naive[key(r)].ms / r.ms for r in run.tuned if key(r) in run.naive
        )
        lines.append(
            f"- Naive / tuned: median {ratios[len(ratios) // 2]:.1f}x, up to "
            f"{ratios[-1]:.0f}x."
        )
    lines += [f"- {note}" for note in run.notes]
    return lines

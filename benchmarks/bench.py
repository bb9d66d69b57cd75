"""`sportsfeat bench [--quick]`: the pipeline against the physical limit and a peer, side by
side, on the same events, on the running local stack (issue 9).

1. prepare: one topic of generated Avro events (benchmarks.dataset);
2. drain that backlog with every system in turn, one at a time (benchmarks.drain): Kafka's
   consumer perf tool and a read+decode Flink job (the limit), the full catalogue and the
   built-in-aggregation subset at each parallelism (this project, end to end into Kafka
   and, through the stack's writer, Redis), Quix Streams with as many processes (the
   peer). Draining a backlog, not ramping a generator: the generator (one Python process,
   ~115k events/s to Kafka) could not outrun the limit, a backlog can;
3. cross-check the values (benchmarks.correctness) of the full catalogue and the peer
   against the reference and each other, on a drain that runs to the end of its backlog:
   the quick run's first drains, or (full run) a smaller backlog of the same users drained
   to its end, as the full run's drains are capped in time and close few windows;
4. freshness at half each system's sustained throughput (benchmarks.freshness), paced;
5. the serving API under load (benchmarks.online_store's serving measurement);
6. write benchmarks/results/latest.{json,md} and PNG plots.

Exit 1 when this project's values are wrong or none arrive, never because of a timing; the
peer's disagreements and failed measurements are reported.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import redis

from benchmarks import correctness, feature_sets, kafka_io, plots, profile, summary
from benchmarks.cleanup import delete_run_data
from benchmarks.dataset import Dataset, produce, register_source
from benchmarks.drain import Measurement, measure
from benchmarks.freshness import Watch, project_visibility
from benchmarks.online_store import bench_serving
from benchmarks.peer import launch
from benchmarks.peer import venv as peer_venv
from benchmarks.report import Metric, write
from benchmarks.summary import Results
from benchmarks.systems import FlinkJob, QuixPeer, Work, consumer_perf, stack_pid
from flink_jobs.drills.load import SteadyLoad
from flink_jobs.errors import UserError, run_main
from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.features.model import FeatureGroup
from flink_jobs.job_config import JobConfig
from flink_jobs.online_store import FeatureGroupRef, OnlineStore
from flink_jobs.producer import GovernedProducer
from flink_jobs.progress import Progress
from flink_jobs.settings import Settings, load_settings
from flink_jobs.stack import manager
from flink_jobs.stack.api import FeatureApi
from flink_jobs.stack.writer import OnlineStoreWriter
from flink_jobs.topics import ensure_topics
from flink_jobs.verify.compare import Rows
from flink_jobs.writer import WRITER_GROUP

BOUND_MS = int(INTERACTIONS.max_out_of_orderness.total_seconds() * 1000)
CHECK_CAP_S = 900  # the correctness drains run to the end of their backlog, within reason
PROFILE_AFTER_S = 10  # a profile starts this long into a drain: past start-up
PROFILE_S = 20
# Checked (quick runs) and profiled (full runs) in their first drain: what the targets compare.
FIRST = (summary.project("full catalogue", 1), summary.peer(1))
SHARED_FRESH = summary.project("the peer's groups only", 1)  # freshness, like for like


@dataclass(frozen=True)
class Plan:
    quick: bool
    runs: int
    data: Dataset
    cap_s: float  # a drain's measured window ends here if the backlog lasts longer
    parallelisms: tuple[int, ...]
    fresh_s: float  # at least; until a minute's windows close (load_seconds)
    serving_s: float
    peer_commit_interval_s: float
    check: Dataset | None  # its own backlog for the correctness check (None: the first drains)

    @classmethod
    def of(cls, quick: bool, runs: int | None, events: int | None, commit_s: float) -> Plan:
        if quick:  # correctness on every path; figures indicative only
            data = Dataset.ending_now(events or 120_000, 1_000, users=5_000, contents=1_000)
            return cls(True, runs or 1, data, 120, (1,), 20, 3, commit_s, None)
        data = Dataset.ending_now(events or 8_000_000, 5_000, users=100_000, contents=10_000)
        # 5 minutes of event time for the same 100k users: every 1-minute group closes windows
        check = Dataset.ending_now(600_000, 2_000, users=100_000, contents=10_000)
        return cls(False, runs or 3, data, 60, (1, 2), 120, 15, commit_s, check)

    def phases(self) -> int:
        """How many phases a run has (Bench._run_phases and _clean_up), at most: a full run's
        freshness skips a system whose drains measured nothing."""
        drains = 4 * len(self.parallelisms) + (0 if self.quick else 1)  # +1: plain Avro
        freshness = 1 if self.quick else 3
        check = 0 if self.check is None else 3  # its backlog, then two drains
        # prepare, the peer's environment, serving, clean up; per run the Kafka limit too
        return 4 + self.runs * (1 + drains + freshness) + check


@dataclass
class Bench:
    settings: Settings
    plan: Plan
    say: Callable[[str], None]

    def __post_init__(self) -> None:
        self.id = uuid.uuid4().hex[:6]
        self.namespace = f"bench{self.id}"
        self.topic = f"{INTERACTIONS.topic}.{self.namespace}"
        self.results = Results()
        self.work = self.settings.state_dir / "bench" / self.namespace  # peer state and logs
        self.peer_python: Path | None = None
        self.shared = {g.name: g for g in feature_sets.peer_groups()}
        self._project_rows: dict[str, Rows] = {}
        self._runs = 0
        self.progress = Progress("bench", self.plan.phases(), "phases", self.say)
        self.say = self.progress.say  # every line above the bar

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"==> {name}")
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - a failed phase is reported, the rest runs
            reason = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            self.results.failures.append(f"{name}: {reason}")
            self.say(f"    FAILED after {time.monotonic() - started:.0f} s: {reason}")
        else:
            self.say(f"    done in {time.monotonic() - started:.0f} s")
        self.progress.advance()

    def run(self) -> int:
        preflight(self.settings)
        try:
            self._run_phases()
        finally:
            self._clean_up()
            self.progress.close()
        return self._report()

    def _run_phases(self) -> None:
        plan, data = self.plan, self.plan.data
        with self.phase(f"prepare: {data.events:,} events into {self.topic}"):
            took = produce(
                data,
                self.settings.kafka_bootstrap,
                self.settings.registry_url,
                self.topic,
                self.say,
            )
            self.say(f"    {data.events / took:,.0f} events/s produced")
        if self.results.failures:
            return  # nothing to measure without the backlog
        for rep in range(plan.runs):
            with self.phase(f"limit: Kafka consumer perf tool, run {rep + 1}"):
                result = consumer_perf(self.settings, self.topic, data.events, 600)
                self.results.perf.append(result)
                self.say(f"    {result.rate:,.0f} events/s")
        for p in plan.parallelisms:
            self._drains(summary.flink_limit(p), partial(self._flink, "limit", "", p, Work.READ))
        # What the dead-letter decoding costs: the read with Flink's own Avro format (it drains
        # the quick backlog before the first progress sample: full runs only).
        if not plan.quick:
            plain = partial(self._flink, "plain", "", 1, Work.READ_PLAIN_AVRO)
            self._drains(summary.flink_plain_avro(1), plain)
        builtin = ",".join(g.name for g in feature_sets.built_in_groups())
        for p in plan.parallelisms:
            for subset, groups in (("full catalogue", ""), ("built-in subset", builtin)):
                self._drains(summary.project(subset, p), partial(self._flink, "job", groups, p))
        with self.phase("peer: its own environment"):
            self.peer_python = peer_venv.ensure(self.settings, self.say)
        for n in plan.parallelisms:
            self._drains(summary.peer(n), partial(self._peer, n, self.topic))
        if plan.check is not None:
            self._check_to_the_end(plan.check)
        self._freshness()
        with self.phase("serving API under load"):
            api = stack_pid(FeatureApi(self.settings), "api")
            spy = None if plan.quick else self._py_spy("api", api, 3 * plan.runs * plan.serving_s)
            self.results.serving = bench_serving(self.settings, plan.serving_s, plan.runs)
            if spy is not None:
                self.results.profiles["feature API, the whole serving phase"] = profile.describe(
                    "API process (py-spy)", spy.profile().hotspots, 10
                )

    # --- drains ----------------------------------------------------------------------

    def _flink(
        self, kind: str, groups: str, p: int, work: Work = Work.FEATURES,
        source: str | None = None,
    ) -> FlinkJob:  # fmt: skip
        self._runs += 1
        name = f"bench-{self.id}-{kind}{self._runs}"
        config = JobConfig(
            bootstrap=self.settings.kafka_bootstrap,
            registry_url=self.settings.registry_url,
            groups=groups,
            namespace=f"{self.namespace}r{self._runs}",
            source_namespace=source or self.namespace,
            consumer_group=name,
            job_name=name,
            parallelism=p,
        )
        return FlinkJob(self.settings, name, config, work)

    def _peer(self, processes: int, topic: str) -> QuixPeer:
        if self.peer_python is None:
            raise UserError("the peer's environment is missing (see the phase above)")
        self._runs += 1
        return launch.quix_peer(
            self.settings, self.peer_python, self.work, f"quix-{self.id}-{self._runs}", topic,
            f"peer.{self.id}.r{self._runs}", self.plan.peer_commit_interval_s, processes,
        )  # fmt: skip

    def _drains(self, label: str, make: Callable[[], FlinkJob | QuixPeer]) -> None:
        for rep in range(self.plan.runs):
            with self.phase(f"{label}, run {rep + 1}"):
                system = make()
                profiled = rep == 0 and not self.plan.quick and label in FIRST
                beside = partial(self._profile, label, system) if profiled else None
                total, cap = self.plan.data.events, self.plan.cap_s
                result = measure(system, total, cap, 180, self.say, beside)
                self._record(label, result)
                if isinstance(system, FlinkJob):
                    self.results.checkpoints.setdefault(label, []).append(system.checkpoints)
                if self.plan.check is None and rep == 0 and label in FIRST:
                    self._check(system, self.topic, self.plan.data)

    # --- profiles --------------------------------------------------------------------

    def _profile(self, label: str, system: FlinkJob | QuixPeer) -> None:
        """Where a drain's time goes: Flink's operator load and flame graph and the writer
        (py-spy) for the project, py-spy for the peer. Runs beside the drain."""
        time.sleep(PROFILE_AFTER_S)
        try:
            if isinstance(system, FlinkJob):
                lines = self._profile_job(system)
            else:
                peer = self._py_spy("peer", system.roles()["peer"], PROFILE_S)
                lines = profile.describe("peer process (py-spy)", peer.profile().hotspots, 10)
        except Exception as exc:  # noqa: BLE001 - a failed profile is reported, the run goes on
            lines = [f"profile failed: {type(exc).__name__}: {exc}"]
        self.results.profiles[label] = lines

    def _profile_job(self, job: FlinkJob) -> list[str]:
        url, job_id = self.settings.flink_rest_url, job.job_id or ""
        writer = self._py_spy(
            "writer", stack_pid(OnlineStoreWriter(self.settings), "writer"), PROFILE_S
        )
        loads = profile.median_loads(url, job_id, PROFILE_S)
        busiest = max(loads, key=lambda load: load.busy)
        graph = profile.flame_graph(url, job_id, busiest.vertex_id, timeout_s=30)
        return [
            *profile.describe_loads("Flink operators (median of 2 s samples)", loads),
            *profile.describe(
                f"Flink flame graph (on CPU) of the busiest vertex, {busiest.name}",
                graph.hotspots,
                10,
            ),
            *profile.describe("writer process (py-spy)", writer.profile().hotspots, 8),
        ]

    def _py_spy(self, role: str, pids: list[int], seconds: float) -> profile.PySpy:
        if not pids:
            raise UserError(f"no {role} process to profile")
        self.work.mkdir(parents=True, exist_ok=True)
        return profile.PySpy(pids[0], seconds, self.work / f"{role}-{self._runs}.pyspy")

    def _record(self, label: str, m: Measurement) -> None:
        self.results.drains.setdefault(label, []).append(m)
        end = "end of the backlog" if m.reached_end else f"time cap, {m.events:,} events"
        self.say(f"    {m.rate:,.0f} events/s over {m.seconds:.1f} s ({end}; {m.probe})")

    # --- correctness -----------------------------------------------------------------

    def _check_to_the_end(self, data: Dataset) -> None:
        """The full catalogue, then the peer, each draining `data` to its end, checked."""
        namespace = f"{self.namespace}c"
        topic = f"{INTERACTIONS.topic}.{namespace}"
        with self.phase(
            f"correctness: {data.events:,} events of {data.users:,} users into {topic}"
        ):
            produce(
                data, self.settings.kafka_bootstrap, self.settings.registry_url, topic, self.say
            )
        project: Callable[[], FlinkJob | QuixPeer] = partial(
            self._flink, "check", "", 1, source=namespace
        )
        peer: Callable[[], FlinkJob | QuixPeer] = partial(self._peer, 1, topic)
        for label, make in (
            (summary.project("full catalogue", 1), project),
            (summary.peer(1), peer),
        ):
            with self.phase(f"correctness: {label} drains it to the end"):
                system = make()
                m = measure(system, data.events, CHECK_CAP_S, 180, self.say)
                self.say(f"    {m.rate:,.0f} events/s, end reached: {m.reached_end}")
                self._check(system, topic, data)

    def _check(self, system: FlinkJob | QuixPeer, topic: str, data: Dataset) -> None:
        """Compare the run's output with the reference (and the project's with the peer's)."""
        bootstrap = self.settings.kafka_bootstrap
        if isinstance(system, FlinkJob):
            read = system.processed
        else:
            ends = kafka_io.end_offsets(bootstrap, topic)
            read = kafka_io.committed(bootstrap, system.consumer_group, topic, ends)
        times = kafka_io.event_times_before(bootstrap, self.settings.registry_url, topic, read)
        if not times:
            raise UserError(f"{system.name} committed no progress: no results to check")
        until = correctness.cutoff(times, BOUND_MS)
        groups = tuple(self.shared.values())
        first = len(self.results.verdicts)
        want = correctness.expected(data.stream(), groups, data.sampled, until)
        for group in groups:
            if isinstance(system, FlinkJob):
                self._check_project(system, group, want[group.name], until, data)
            else:
                self._check_peer(system, group, want[group.name], until, data)
        for verdict in self.results.verdicts[first:]:
            state = "ok" if verdict.ok else f"{len(verdict.problems)} problems"
            self.say(f"    {verdict.system} {verdict.group}: {verdict.windows} windows, {state}")

    def _check_project(
        self, job: FlinkJob, group: FeatureGroup, want: Rows, until: int, data: Dataset
    ) -> None:
        bootstrap = self.settings.kafka_bootstrap
        topic = job.config.feature_topic(group)
        names = [f.name for f in group.features]
        decode = kafka_io.avro_decoder(self.settings.registry_url)
        got, dups = kafka_io.feature_rows(bootstrap, topic, decode, data.sampled, names)
        self._project_rows[group.name] = got
        self.results.verdicts.append(
            correctness.check_rows(job.name, group, group.features, got, want, until, dups)
        )
        wait_for_writer(bootstrap, topic)
        store = OnlineStore(redis.Redis.from_url(self.settings.redis_url), ttl_ms=0)
        ref = FeatureGroupRef.from_topic(topic)
        stored = {}
        for entity in {k[0] for k in want}:
            value = store.read(ref, entity)
            if value:
                features = {k: correctness.typed(v) for k, v in value.items()}
                stored[entity] = (
                    int(value["_window_start_ms"]),
                    int(value["_window_end_ms"]),
                    features,
                )
        self.results.verdicts.append(
            correctness.check_store(job.name, group, group.features, stored, want)
        )

    def _check_peer(
        self, peer: QuixPeer, group: FeatureGroup, want: Rows, until: int, data: Dataset
    ) -> None:
        bootstrap = self.settings.kafka_bootstrap
        features = feature_sets.peer_features(group)
        prefix = peer.output_prefix
        names = [f.name for f in features]
        got, dups = kafka_io.feature_rows(
            bootstrap, f"{prefix}.{group.name}", kafka_io.json_decoder, data.sampled, names
        )
        late = sum(n for store, n in peer.late.items() if group.name in store)
        verdict = correctness.check_rows(peer.name, group, features, got, want, until, dups)
        if late:
            verdict.problems.append(f"the peer dropped {late} events as late")
        self.results.verdicts.append(verdict)
        client = redis.Redis.from_url(self.settings.redis_url)
        stored = {}
        for entity in {k[0] for k in want}:
            raw = client.get(f"{prefix}:{group.name}:{entity}")
            if raw is not None:
                v = json.loads(raw)
                stored[entity] = (int(v["window_start"]), int(v["window_end"]), v)
        self.results.verdicts.append(
            correctness.check_store(peer.name, group, features, stored, want)
        )
        mine = self._project_rows.get(group.name)
        if mine is not None:  # the project's rows against the peer's, where both have them
            both = {k: v for k, v in mine.items() if k in got and k[2] <= until}
            self.results.verdicts.append(
                correctness.check_rows("project vs peer", group, features, got, both, until)
            )

    # --- freshness -------------------------------------------------------------------

    def _freshness(self) -> None:
        plan = self.plan
        project_label, peer_label = summary.project("full catalogue", 1), summary.peer(1)
        for rep in range(plan.runs):
            if plan.quick:  # both at once, at a small fixed rate: a smoke test of the path
                with self.phase(f"freshness, both systems at 200 events/s, run {rep + 1}"):
                    self._fresh_run({project_label: "project", peer_label: "peer"}, 200.0)
                continue
            # Each at half its own throughput, and (like for like) the peer's groups alone in
            # a job of this project at the peer's rate: the full catalogue emits 8 groups.
            for label, kind, paced_as in (
                (project_label, "project", project_label),
                (peer_label, "peer", peer_label),
                (SHARED_FRESH, "shared", peer_label),
            ):
                rates = self.results.rates(paced_as)
                if not rates:
                    continue
                rate = sorted(rates)[len(rates) // 2] / 2
                with self.phase(f"freshness: {label} at {rate:,.0f} events/s, run {rep + 1}"):
                    self._fresh_run({label: kind}, rate)

    def _fresh_run(self, systems: dict[str, str], rate: float) -> None:
        self._runs += 1
        namespace = f"{self.namespace}f{self._runs}"
        topic = f"{INTERACTIONS.topic}.{namespace}"
        bootstrap = self.settings.kafka_bootstrap
        ensure_topics(bootstrap, [topic], 3)
        register_source(self.settings.registry_url, topic)
        running: list[tuple[str, FlinkJob | QuixPeer, Watch]] = []
        try:
            for label, kind in systems.items():
                system: FlinkJob | QuixPeer
                if kind == "peer":
                    system = self._peer(1, topic)
                else:
                    groups = ",".join(self.shared) if kind == "shared" else ""
                    system = self._flink("fresh", groups, 1, source=namespace)
                try:
                    system.start()
                except BaseException:
                    system.stop()
                    raise
                running.append((label, system, self._watch(system)))
            for _, _, watch in running:
                watch.start()
            time.sleep(5)  # the peer's first poll, the job's first fetch
            registry = self.settings.registry_url
            load = SteadyLoad(
                lambda: GovernedProducer(bootstrap, registry, topic, "user_id"),
                rate, self.plan.data.users, seed=self.plan.data.seed + 1,
            )  # fmt: skip
            load.start()
            time.sleep(load_seconds(self.plan.fresh_s, time.time()))
            load.stop()
            stopped_ms = time.time() * 1000
            for _, _, watch in running:
                watch.closes_until(stopped_ms)
            time.sleep(12)  # a checkpoint (10 s) and a writer poll for the last windows
        finally:
            for label, system, watch in running:
                watch.stop()
                system.stop()
                reps = self.results.freshness.setdefault(label, [])
                reps.append((watch.kafka_ms, watch.redis_ms))
                self.say(
                    f"    {label}: {len(watch.kafka_ms)} rows in Kafka, "
                    f"{len(watch.redis_ms)} sampled in Redis"
                )
        if not all(w.kafka_ms for _, _, w in running):
            raise UserError("a system produced no feature rows under the paced load")

    def _watch(self, system: FlinkJob | QuixPeer) -> Watch:
        if isinstance(system, FlinkJob):
            topics = {system.config.feature_topic(g): g for g in self.shared.values()}
            visibility = project_visibility(topics, self.settings.registry_url)
        else:
            visibility = launch.visibility(system.output_prefix)
        return Watch(
            system.name,
            self.settings.kafka_bootstrap,
            self.settings.redis_url,
            visibility,
            self.plan.data.sampled,
            BOUND_MS,
        )

    # --- the end ---------------------------------------------------------------------

    def _clean_up(self) -> None:
        with self.phase("clean up: the run's topics and Redis keys"):
            patterns = (f"feat:*{self.namespace}*", f"peer.{self.id}.*")
            topics, keys = delete_run_data(self.settings, self._ours, patterns)
            self.say(f"    {topics} topics, {keys} keys deleted")

    def _ours(self, topic: str) -> bool:
        """The run's topics: its namespaces, the peer's outputs and Quix's internal topics
        (named after the peer's consumer group)."""
        return any(tag in topic for tag in (self.namespace, f"-{self.id}-", f"peer.{self.id}."))

    def _report(self) -> int:
        results, plan = self.results, self.plan
        found = summary.metrics(results, plan.parallelisms)
        bad = [v for v in results.verdicts if not v.ok]
        notes = notes_of(plan, results, found)
        name = "latest-quick" if plan.quick else "latest"  # a CI run leaves the full results be
        path = write(name, found, notes, self.settings.results_dir)
        plots.write(results, self.settings.results_dir, name)
        self.say(path.read_text())
        for v in bad:
            self.say(f"WRONG {v.system} {v.group}: " + "; ".join(v.problems[:5]))
        for failure in results.failures:
            self.say(f"FAILED {failure}")
        # Exit 1 for this project's pipeline only: wrong values or no results. The peer's
        # disagreements and failed measurements are in the report.
        # A time-capped drain may close no window of a group: nothing to compare there.
        ours = [v for v in results.verdicts if v.system.startswith(f"bench-{self.id}-")]
        wrong = any(v.problems for v in ours)
        return 1 if wrong or not any(v.windows for v in ours) else 0


def load_seconds(at_least_s: float, now_s: float) -> float:
    """How long the paced load runs from `now_s`: `at_least_s`, and past the next minute
    boundary by more than the bound, so the 1-minute windows holding the load close."""
    return max(at_least_s, 60 - now_s % 60 + BOUND_MS / 1000 + 2)


def wait_for_writer(bootstrap: str, topic: str, timeout_s: float = 120) -> None:
    """Until the stack's writer has applied the topic up to its end (transactional: the last
    offset is a commit marker)."""
    deadline = time.monotonic() + timeout_s
    ends = kafka_io.end_offsets(bootstrap, topic)
    while time.monotonic() < deadline:
        done = kafka_io.committed(bootstrap, WRITER_GROUP, topic, ends)
        if all(done[p] >= end - 1 for p, end in ends.items() if end > 0):
            return
        time.sleep(1)
    raise UserError(f"the writer did not catch up with {topic} in {timeout_s:.0f} s")


def preflight(settings: Settings) -> None:
    down = [s for s in manager.status(settings) if not s.healthy]
    if down:
        which = ", ".join(f"{s.name} ({s.problem})" for s in down)
        raise UserError(f"the stack is not up: {which}; start it with `sportsfeat stack up`")


def notes_of(plan: Plan, results: Results, found: list[Metric]) -> dict[str, str]:
    data = plan.data
    gaps = feature_sets.inexpressible()
    verdicts = [
        f"- {v.system} {v.group}: "
        + (
            "no window closed within the measured drain: nothing compared"
            if not v.windows
            else f"{v.windows} windows, "
            + ("agree" if v.ok else f"{len(v.problems)} problems, e.g. {v.problems[:3]}")
        )
        for v in results.verdicts
    ]
    return {
        "How": (
            f"{'Quick run (indicative figures only). ' if plan.quick else ''}"
            f"One topic of {data.events:,} generated fan.interactions events (seed {data.seed}, "
            f"{data.users:,} users, {data.contents:,} contents, {data.events_per_second:,.0f} "
            f"events per simulated second, {data.out_of_order_share:.0%} delivered out of order "
            f"by up to {data.max_disorder_ms} ms), drained by each system in turn, "
            f"{plan.runs} run(s) each. Throughput: events consumed between the first progress "
            f"sample and the end of the backlog or {plan.cap_s:.0f} s, job start-up excluded. "
            "CPU: utime+stime from /proc of the system's processes over the same interval; "
            "RSS: peak of the sampled sum over each process tree. "
            + (
                ""
                if plan.quick
                else f"Profiles: from {PROFILE_AFTER_S} s into the first drain of the full "
                f"catalogue and of the peer, {PROFILE_S} s of Flink's operator metrics, one "
                "flame graph and py-spy at 50 Hz (non-blocking). "
            )
            + "Freshness: paced real-time "
            f"load at half each system's median throughput for {plan.fresh_s:.0f} s or more "
            "(past a minute boundary by more than the bound); the peer's groups alone, in a job "
            "of this project, at the peer's rate. The writer reads uncommitted rows; Kafka "
            "counts what a read_committed consumer sees. "
            + (
                f"Correctness: a second backlog of {plan.check.events:,} events "
                f"({plan.check.users:,} users, {plan.check.events_per_second:,.0f} events per "
                "simulated second) drained to its end by the full catalogue and by the peer, "
                "each checked against the reference and the two against each other. "
                if plan.check
                else "Correctness: the first full-catalogue and peer drains, checked. "
            )
            + f"Peer: Quix Streams 3.28.1, defaults but commit interval "
            f"{plan.peer_commit_interval_s:g} s and max.partition.fetch.bytes "
            f"{launch.FETCH_BYTES}; one process per parallelism step."
        ),
        "Targets": "\n".join(summary.targets(found, plan.parallelisms)),
        "Profile": "\n\n".join(
            f"**{label}**\n\n" + "\n".join(lines) for label, lines in results.profiles.items()
        )
        or "not profiled (quick run)",
        "Correctness cross-check": "\n".join(verdicts) or "nothing was checked",
        "Features the peer cannot express": "\n".join(f"- {k}: {v}" for k, v in gaps.items()),
        "Failures": "\n".join(f"- {f}" for f in results.failures) or "none",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small, under 5 minutes (CI)")
    parser.add_argument("--runs", type=int, help="repetitions per system [quick 1, full 3]")
    parser.add_argument("--events", type=int, help="backlog size [quick 120k, full 8M]")
    parser.add_argument(
        "--peer-commit-interval",
        type=float,
        default=5.0,
        help="Quix's commit (checkpoint) interval, s [its default, 5]",
    )
    args = parser.parse_args(argv)
    plan = Plan.of(args.quick, args.runs, args.events, args.peer_commit_interval)
    bench = Bench(load_settings(), plan, lambda line: print(line, flush=True))
    return bench.run()


if __name__ == "__main__":
    run_main(main)

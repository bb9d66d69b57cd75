"""A Flink standalone session cluster from the apache-flink wheel's own bin/ (or, with
SPORTSFEAT_FLINK_VERSION, a side release's: flink_dist.py).

The wheel is never modified: the cluster gets its own conf/ and lib/ under the state
directory (FLINK_CONF_DIR, FLINK_LIB_DIR), with the distribution's jars plus the pinned
connector and format jars, and the Prometheus reporter as a plugin.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import yaml

from flink_jobs.settings import Settings
from flink_jobs.stack.flink_dist import FlinkDist, flink_dist
from flink_jobs.stack.jars import flink_jars
from flink_jobs.stack.service import Launch, Service
from udfs import UDF_JAR

PROMETHEUS_PORTS = "9249-9259"


def flink_config(settings: Settings, home: Path) -> dict[str, object]:
    """The cluster's config.yaml (flat keys), keeping the wheel's Java 17 module flags."""
    wheel = yaml.safe_load((flink_dist(settings).home / "conf" / "config.yaml").read_text())
    host = settings.host
    return {
        "env.java.opts.all": wheel["env"]["java"]["opts"]["all"],
        "jobmanager.rpc.address": host,
        "jobmanager.rpc.port": settings.flink_rpc_port,
        "jobmanager.bind-host": host,
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.bind-host": host,
        "taskmanager.host": host,
        "taskmanager.numberOfTaskSlots": settings.flink_task_slots,
        "taskmanager.memory.process.size": "3072m",
        "rest.address": host,
        "rest.bind-address": host,
        "rest.port": settings.flink_rest_port,
        # Metrics in the REST API (status, benchmark progress) at most 1 s old, not 10 s.
        "metrics.fetcher.update-interval": 1000,
        # Flame graphs in the web UI and REST (the benchmark's profile of the busiest vertex).
        "rest.flamegraph.enabled": True,
        "parallelism.default": 1,
        # A TaskManager that dies is declared lost after 20 s without heartbeats (not the
        # default 50 s), so the job restarts sooner (Kubernetes starts a replacement pod).
        "heartbeat.interval": 2000,
        "heartbeat.timeout": 20000,
        # State: RocksDB with incremental checkpoints, kept on cancel. Each job sets its own
        # checkpoint interval and mode (flink_jobs.job.configure).
        "state.backend.type": "rocksdb",
        "execution.checkpointing.incremental": True,
        "execution.checkpointing.dir": (home / "checkpoints").as_uri(),
        "execution.checkpointing.savepoint-dir": (home / "savepoints").as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        # A failing job retries after 1 s, 2 s, 4 s ... at most 60 s apart, never giving up;
        # the backoff resets after 10 min without failure. No crash loop hammers the stack.
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "1 s",
        "restart-strategy.exponential-delay.max-backoff": "60 s",
        "restart-strategy.exponential-delay.backoff-multiplier": 2.0,
        "restart-strategy.exponential-delay.reset-backoff-threshold": "10 min",
        "restart-strategy.exponential-delay.jitter-factor": 0.1,
        "metrics.reporter.prom.factory.class": (
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
        ),
        "metrics.reporter.prom.host": host,
        "metrics.reporter.prom.port": PROMETHEUS_PORTS,
    }


class FlinkCluster(Service):
    name = "flink"

    def process_names(self) -> list[str]:
        return ["flink-jobmanager", "flink-taskmanager"]

    def ports(self) -> list[int]:
        return [self.settings.flink_rest_port, self.settings.flink_rpc_port]

    def listens(self) -> str:
        return f"{self.settings.flink_rest_url} (REST and web UI)"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def dist(self) -> FlinkDist:
        return flink_dist(self.settings)

    def env(self) -> dict[str, str]:
        """What the wheel's bin/ scripts need to use this cluster's conf and lib."""
        return {
            **self.dist.env(),
            "FLINK_CONF_DIR": str(self.conf_dir),
            "FLINK_LIB_DIR": str(self.home / "lib"),
            "FLINK_PLUGINS_DIR": str(self.home / "plugins"),
            "FLINK_LOG_DIR": str(self.log_dir / "flink"),
        }

    def _link_jars(self) -> None:
        lib, plugin = self.home / "lib", self.home / "plugins" / "metrics-prometheus"
        for folder in (lib, plugin):
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.jar"):
                old.unlink()
        for jar in [*(self.dist.home / "lib").glob("*.jar"), *flink_jars(self.settings.jar_cache)]:
            target = (plugin if jar.name.startswith("flink-metrics-") else lib) / jar.name
            if jar == UDF_JAR:  # a copy: rebuilding the jar must not change it under a JVM
                shutil.copy2(jar, target)
            else:
                target.symlink_to(jar)

    def launches(self) -> list[Launch]:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.log_dir / "flink").mkdir(parents=True, exist_ok=True)
        config = flink_config(self.settings, self.home)
        (self.conf_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=True))
        for name in ("log4j-console.properties", "log4j-cli.properties", "log4j.properties"):
            (self.conf_dir / name).write_text((self.dist.home / "conf" / name).read_text())
        self._link_jars()
        return [
            Launch(f"flink-{role}", ["bash", str(self.dist.home / "bin" / f"{role}.sh"),
                   "start-foreground"], self.home, self.env())
            for role in ("jobmanager", "taskmanager")
        ]  # fmt: skip

    def probe(self) -> str | None:
        try:
            overview = httpx.get(f"{self.settings.flink_rest_url}/overview", timeout=3).json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"GET /overview: {exc}"
        if overview.get("taskmanagers", 0) < 1:
            return "JobManager is up, waiting for a TaskManager to register"
        if overview.get("flink-version") != self.dist.version:
            return (
                f"it runs Flink {overview.get('flink-version')}, these settings want "
                f"{self.dist.version}: `sportsfeat stack down`, then up again"
            )
        return None

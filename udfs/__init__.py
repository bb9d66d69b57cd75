"""The platform's Java UDFs (udfs/java, README beside it) as the generated SQL calls them.

They run in the JVM: a Python aggregate function runs in process mode only and costs 20-80x
a JVM aggregate on the per-event path (docs: platform facts), so sketches, top-K, last-N,
decayed sums and Avro decoding are Java. Build the jar with `sportsfeat setup`.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyflink.table import TableEnvironment

JAVA_PROJECT: Final = Path(__file__).resolve().parent / "java"
UDF_JAR: Final = JAVA_PROJECT / "target" / "sportsfeat-udfs.jar"

_PACKAGE = "dev.sportsfeat.udfs"

# SQL name -> Java class. The names are the generated SQL's contract; the class names are
# part of savepoints (accumulator serializers): never rename either.
JAVA_FUNCTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "DECODE_AVRO": f"{_PACKAGE}.DecodeAvro",
        "METER_RECORD": f"{_PACKAGE}.MeterRecord",
        "APPROX_DISTINCT": f"{_PACKAGE}.ApproxDistinct",
        "EXACT_DISTINCT": f"{_PACKAGE}.ExactDistinct",
        "APPROX_PERCENTILES": f"{_PACKAGE}.ApproxPercentiles",
        "TOP_K": f"{_PACKAGE}.TopK",
        "LAST_N_DISTINCT": f"{_PACKAGE}.LastNDistinct",
        "LATEST": f"{_PACKAGE}.Latest",
        "EARLIEST": f"{_PACKAGE}.Earliest",
        "DECAY_SUM": f"{_PACKAGE}.DecaySum",
        "TILES": f"{_PACKAGE}.tiles.Tiles",
    }
)


def udf_jar() -> Path:
    """The built jar; FileNotFoundError naming the fix when it has not been built."""
    if not UDF_JAR.is_file():
        raise FileNotFoundError(f"{UDF_JAR} is missing: run `sportsfeat setup` to build it")
    return UDF_JAR


def register_java_functions(t_env: TableEnvironment) -> None:
    """Register every Java UDF as a temporary system function.

    System functions resolve by their bare name whatever the current catalog and database, as
    the generated SQL calls them; temporary ones live in the session only, which is what a
    compiled plan expects (it refers to temporary functions by name: register them again
    before EXECUTE PLAN). The jar must be on the classpath: `pipeline.jars` or Flink's lib/.
    """
    for name, java_class in JAVA_FUNCTIONS.items():
        t_env.create_java_temporary_system_function(name, java_class)

# The platform's one image: the feature job's JobManager and TaskManagers (Flink Kubernetes
# Operator), the online-store writer and the feature API. Official Flink 2.2.1 on Java 17,
# Python 3.11 with the packages of requirements.lock, the connector/format/metrics jars of
# jvm/pom.xml verified against jvm/checksums.sha256 (the local stack's pins), the Java UDFs.
# tests/unit/test_dockerfile.py proves every version here equals the project's own pin.
#
#   docker build -t sportsfeat:$(git rev-parse --short HEAD) .

ARG FLINK_IMAGE=flink:2.2.1-scala_2.12-java17
ARG MAVEN_IMAGE=maven:3.9.9-eclipse-temurin-17
# uv installs a relocatable CPython build and checks it against the SHA-256 it embeds.
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8
ARG PYTHON_VERSION=3.11.18

FROM ${UV_IMAGE} AS uv

# --- the pinned Flink jars: the same pom and checksums as `sportsfeat setup`
FROM ${MAVEN_IMAGE} AS jars
WORKDIR /build
COPY jvm/ jvm/
RUN mvn -B -q -C -f jvm/pom.xml -Djars.dir=/jars dependency:copy@flink \
 && cd /jars && grep ' flink/' /build/jvm/checksums.sha256 | sha256sum --check --strict -

# --- the Java UDFs (Flink is `provided`; their own dependencies are shaded in)
FROM ${MAVEN_IMAGE} AS udfs
WORKDIR /build
COPY udfs/java/ udfs/java/
RUN mvn -B -q -f udfs/java/pom.xml package -DskipTests

# --- Python and the project, built on the runtime's own base (same glibc) where compilers are
FROM ${FLINK_IMAGE} AS python
ARG PYTHON_VERSION
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
COPY --from=uv /uv /usr/local/bin/uv
RUN UV_PYTHON_INSTALL_DIR=/opt/python uv python install "$PYTHON_VERSION" \
 && "$(UV_PYTHON_INSTALL_DIR=/opt/python uv python find "$PYTHON_VERSION")" -m venv /opt/venv
WORKDIR /opt/sportsfeat
# Dependencies first (a layer that survives code changes): pyproject's runtime dependencies,
# every version fixed by the lock.
COPY requirements.lock pyproject.toml ./
RUN /opt/venv/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > runtime.txt \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      -c requirements.lock -r runtime.txt \
 && rm runtime.txt
# Editable, so flink_jobs finds schemas/ beside itself (settings.PROJECT_ROOT). flink_jobs/
# brings the feature job's released compiled plan, which the FlinkDeployment runs (--plan).
COPY README.md ./
COPY flink_jobs/ flink_jobs/
COPY udfs/*.py udfs/
COPY schemas/ schemas/
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps -e . \
 && /opt/venv/bin/python -c 'import flink_jobs.job, pyflink, ssl, sqlite3, lzma, ctypes'

# --- the runtime
FROM ${FLINK_IMAGE}
USER root
COPY --from=python /opt/python /opt/python
COPY --from=python /opt/venv /opt/venv
COPY --from=python /opt/sportsfeat /opt/sportsfeat
COPY --from=jars /jars/flink/flink-sql-*.jar /opt/flink/lib/
# The distribution's own reporter jar is replaced by the pinned one (same version).
RUN rm -rf /opt/flink/plugins/metrics-prometheus
COPY --from=jars /jars/flink/flink-metrics-prometheus-*.jar /opt/flink/plugins/metrics-prometheus/
COPY --from=udfs /build/udfs/java/target/sportsfeat-udfs*.jar /opt/flink/lib/
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /opt/sportsfeat
# The image's own non-root user (uid 9999); nothing it runs writes outside /tmp and /opt/flink.
USER flink

# The feature jobs' image: official Flink 2.2 on Java 17, Python 3.11 with the project's
# pinned packages, and the connector/format/metrics jars pinned in jvm/ (same pins and
# checksums as the local stack).

# --- the pinned Flink jars, fetched by the same pom and verified by the same checksums
FROM maven:3.9.9-eclipse-temurin-17 AS jars
WORKDIR /build
COPY jvm/ jvm/
RUN mvn -B -q -C -f jvm/pom.xml -Djars.dir=/jars dependency:copy@flink \
 && cd /jars && grep ' flink/' /build/jvm/checksums.sha256 | sha256sum -c -

# --- the runtime
FROM flink:2.2.1-scala_2.12-java17
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv \
 && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /opt/sportsfeat
COPY requirements.lock ./
RUN python3.11 -m venv /opt/venv && pip install --no-cache-dir -r requirements.lock
# The project runs from its source tree (flink_jobs finds schemas/ beside itself).
ENV PYTHONPATH=/opt/sportsfeat
COPY flink_jobs/ flink_jobs/
COPY udfs/ udfs/
COPY schemas/ schemas/
COPY --from=jars /jars/flink/flink-sql-*.jar /opt/flink/lib/
COPY --from=jars /jars/flink/flink-metrics-prometheus-*.jar /opt/flink/plugins/metrics-prometheus/
RUN chown -R flink:flink /opt/flink/lib /opt/flink/plugins /opt/sportsfeat
USER flink

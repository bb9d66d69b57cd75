"""The local stack: Kafka, Apicurio Registry, Redis, a Flink session cluster, the Redis writer."""

"""Real-time features for live-sports personalization: Kafka -> PyFlink -> Kafka + Redis."""

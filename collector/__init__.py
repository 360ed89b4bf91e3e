"""The Kafka collector: consumes contract-v1 events and stores them with no loss and no
duplicates. Started by ``driftline collector`` (and by ``driftline up`` when Kafka is set)."""

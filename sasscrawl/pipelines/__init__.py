"""Item pipelines, one job each, in order: validate, deduplicate, mirror images, write."""

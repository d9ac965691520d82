"""Item pipelines, one job each, in order: deduplicate, mirror images, validate, write.

Validation comes after the image mirror, so the record validated is the record saved, image
facts and all.
"""

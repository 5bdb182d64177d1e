"""The core: the generic three-valued rules, the patient's facts, and which facts can still
decide an answer. Pure Python: no I/O, no rich or typer, and nothing above it (the data's
entities, alltx.model, and the assessment, alltx.assessment, build on it)."""

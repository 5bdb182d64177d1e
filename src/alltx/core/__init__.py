"""The core: facts, the label rules, the assessment and what decides it. Pure Python: no
I/O, no rich or typer."""

"""A cohort answered and written as it streams: in Python, in several processes, or in
DuckDB."""

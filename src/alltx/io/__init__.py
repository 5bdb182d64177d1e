"""Rows in: a cohort's input opened and read, one row or one error per record."""

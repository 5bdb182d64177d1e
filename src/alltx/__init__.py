"""alltx: which US FDA-approved immunotherapies for ALL fit a patient's facts, and why."""

__version__ = "0.1.0"

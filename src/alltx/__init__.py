"""alltx: which immunotherapies for ALL fit a patient's facts, under the US or the EU
authorisations, and why."""

__version__ = "0.1.0"

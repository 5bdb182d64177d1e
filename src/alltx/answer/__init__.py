"""The answers as plain values, and their shapes: what every view draws."""

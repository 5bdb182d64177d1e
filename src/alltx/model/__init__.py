"""The data, declared and loaded: the therapies and the guide, their files and schemas."""

"""`python -m alltx` runs the same command as `alltx`."""

from alltx.cli import main

if __name__ == "__main__":
    main()

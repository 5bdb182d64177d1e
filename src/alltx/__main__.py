"""`python -m alltx` runs the same command as `alltx`."""

from alltx.cli.app import main

if __name__ == "__main__":
    main()

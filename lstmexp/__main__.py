"""`python -m lstmexp`: the same command line as the `lstmexp` script."""

from lstmexp.cli.main import entry

if __name__ == "__main__":
    entry()

"""`python -m lstmexp`: the same command line as the `lstmexp` script."""

from lstmexp.cli.main import main

if __name__ == "__main__":
    main()

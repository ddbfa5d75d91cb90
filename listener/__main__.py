"""`python -m listener` runs the CLI."""

from listener.cli import main

main()

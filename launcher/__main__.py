"""`python -m launcher` is the `partnernet` command."""

from launcher.cli import main

main()

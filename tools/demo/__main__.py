"""`python -m tools.demo`: the demo generator's command line."""

from tools.demo.cli import main

main()

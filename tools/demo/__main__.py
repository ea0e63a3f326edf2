"""`python -m tools.demo`: the demo generator's command line."""

from tools.demo import main

main()

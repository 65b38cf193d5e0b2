"""`python -m detector.cli` runs `spin-detect`."""

from detector.cli import main

main(prog_name="spin-detect")

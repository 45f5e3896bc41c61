"""``python -m goalsearch``: the same as the ``goalsearch`` command."""
from .cli import main

main()

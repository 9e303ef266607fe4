"""``python -m pyrustpipe``: the command line."""

from pyrustpipe.cli import run

if __name__ == "__main__":
    run()

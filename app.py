"""Serve the AskBalkans chat page: `python app.py [--host HOST] [--port PORT]` (default 127.0.0.1:7860)."""

import sys

from askbalkans.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))

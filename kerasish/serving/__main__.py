"""``python -m kerasish.serving`` (same flags as ``kerasish serve``)."""
from kerasish.serving.cli import main

if __name__ == "__main__":
    main()

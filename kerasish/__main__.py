"""``python -m kerasish``: the demo job (see kerasish/demo.py)."""
from kerasish.demo import main

if __name__ == "__main__":
    main()

"""`python -m ndflow`: ndflow's main job (train, evaluate and print the accuracy)."""

from ndflow.demo import main

if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m bench``: run the benchmarks (options: ``python -m bench --help``)."""

from bench.run import main

if __name__ == "__main__":  # the replica's server process is spawned and must not run this again
    main()

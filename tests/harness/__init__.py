"""The process harness of the tests and the benchmarks: the product's real pieces (Redis, the
simulator, Celery, the web) started on 127.0.0.1 and ended again.

Every process runs in its own process group (stopping it stops its children too: Celery's pool,
gunicorn's workers), writes its output to a log file in a folder the caller names, and is
stopped with SIGTERM, then SIGKILL. Nothing here imports pytest: tests/fixtures wrap it in
fixtures, bench/stack.py in a benchmark's Stack. Test-only: neither the wheel nor the Docker
image carries tests/.
"""

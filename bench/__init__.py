"""`make bench`: bench-scale data on a throwaway PostgreSQL, gunicorn under wrk, one table."""

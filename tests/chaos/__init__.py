"""Long fault loops (issue 10): kill -9, racing attempts, cancellation; short by default,
long with CHAOS_LONG=1 (`make chaos`)."""

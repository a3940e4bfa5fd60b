"""Performance benchmarks, run with `python -m benchmarks` (or `make bench`); never part of the test suite."""


def peak_rss_mb() -> float:
    """This process's own peak resident memory in MB: Linux's VmHWM, the high-water mark of the program now running.

    Not getrusage's ru_maxrss: Linux carries that across fork and exec, so a child started by a large process (the
    test suite's, at 1.3 GB) reports the parent's size as its own peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

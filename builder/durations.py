"""Durations in plain words, for progress lines and time-left estimates everywhere:
``duration(40)`` → ``"40 s"``, ``duration(3900)`` → ``"1 h 5 min"``."""


def duration(seconds: float) -> str:
    """``"40 s"``, ``"90 s"``, ``"3 min"``, ``"1 h 5 min"``."""
    if seconds < 99.5:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"

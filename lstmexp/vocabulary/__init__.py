"""Every name lstmexp's stages share, listed once: what a user may choose (`choices`), what a trial
records (`names`) and what a study stores beside its trials (`attrs`).

The lowest layer: standard library only and importing nothing of lstmexp, so that the spec, the
measurements, the search, the report and the command line (`lstmexp --help` included) all read it.
"""

"""The embedded local stack (SPEC §8). Its modules log under `local.*`; the commands in
`local.__main__` send those records to stderr, and a test run keeps them with each test's output."""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())

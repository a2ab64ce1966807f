"""Argon2 at its cheapest for the test suite: the same algorithm and stored format as production (hashes start with
"argon2", and a production hash still verifies), without production's 100 MiB and eight lanes per hash. With those,
each user a test made and each login cost a quarter second of CPU, about a tenth of the whole suite."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024  # KiB
    parallelism = 1

"""NPI validation: ten digits whose last is the Luhn check digit computed over the 80840 prefix."""

from __future__ import annotations

# The NPI check digit is the ISO/IEC 7812 Luhn digit of "80840" + the first nine digits.
_PREFIX = "80840"


def _luhn_sum(digits: str, *, double_first: bool) -> int:
    """Luhn sum of ``digits`` read right to left, doubling every other digit starting with the first read."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if (position % 2 == 0) == double_first:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total


# The prefix sits left of nine digits (an odd count), so its right-most digit is not doubled.
PREFIX_SUM = _luhn_sum(_PREFIX, double_first=False)
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def check_digit(first_nine: str) -> int:
    # Unrolled for the importer's hot loop; the digits next to the check digit (positions 9, 7, 5, 3, 1) double.
    d = [ord(c) - 48 for c in first_nine]
    total = (PREFIX_SUM + _DOUBLED[d[8]] + d[7] + _DOUBLED[d[6]] + d[5] + _DOUBLED[d[4]] + d[3]
             + _DOUBLED[d[2]] + d[1] + _DOUBLED[d[0]])
    return (10 - total % 10) % 10


def is_valid_npi(value: str) -> bool:
    return len(value) == 10 and value.isascii() and value.isdigit() and check_digit(value[:9]) == ord(value[9]) - 48


def with_check_digit(first_nine: str) -> str:
    return first_nine + str(check_digit(first_nine))

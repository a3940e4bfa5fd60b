"""NPI validation: ten digits whose last is the Luhn check digit computed over the 80840 prefix."""

from __future__ import annotations

# The NPI check digit is the ISO/IEC 7812 Luhn digit of "80840" + the first nine digits.
_PREFIX = "80840"


def check_digit(first_nine: str) -> int:
    total = 0
    # Walk right to left over prefix + digits; the right-most digit (next to the check digit) is doubled.
    for position, char in enumerate(reversed(_PREFIX + first_nine)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(value: str) -> bool:
    return len(value) == 10 and value.isascii() and value.isdigit() and check_digit(value[:9]) == ord(value[9]) - 48


def with_check_digit(first_nine: str) -> str:
    return first_nine + str(check_digit(first_nine))

"""NPI check digits (Luhn over the 80840 prefix)."""

from hypothesis import given
from hypothesis import strategies as st

from fusioncare.directory.npi import is_valid_npi, with_check_digit


def test_known_valid_npis_pass_and_a_changed_check_digit_fails():
    # 1234567893 is the example CMS gives; 1245319599 is a published organization NPI.
    assert is_valid_npi("1234567893")
    assert is_valid_npi("1245319599")
    assert not is_valid_npi("1234567890")
    assert not is_valid_npi("123456789")
    assert not is_valid_npi("12345678931")
    assert not is_valid_npi("12345678a3")
    assert not is_valid_npi("１２３４５６７８９３")  # full-width digits are not ASCII digits


@given(st.from_regex(r"[12][0-9]{8}", fullmatch=True))
def test_generated_check_digits_validate_and_any_single_digit_change_is_caught(first_nine):
    npi = with_check_digit(first_nine)
    assert is_valid_npi(npi)
    for position in range(10):
        for digit in "0123456789":
            if digit != npi[position]:
                assert not is_valid_npi(npi[:position] + digit + npi[position + 1:])


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_unrolled_check_digit_equals_the_plain_luhn_over_the_80840_prefix(first_nine):
    from fusioncare.directory.npi import _luhn_sum, check_digit

    assert check_digit(first_nine) == (10 - _luhn_sum("80840" + first_nine, double_first=True) % 10) % 10

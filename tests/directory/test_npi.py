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


_NPI_LIKE = st.one_of(st.from_regex(r"[12][0-9]{8}", fullmatch=True).map(with_check_digit),
                      st.from_regex(r"[0-9]{10}", fullmatch=True), st.text(max_size=12))


@given(st.lists(st.one_of(st.none(), _NPI_LIKE), max_size=40), st.integers(min_value=0, max_value=5))
def test_the_importers_column_wise_check_agrees_with_is_valid_npi_on_any_values(values, offset):
    """The CMS importers check a whole column at once on Arrow's buffers; for any text (a slice of a larger array
    too, nulls included) each answer is is_valid_npi's."""
    import pyarrow as pa

    from fusioncare.directory.cms_import import _valid_npis

    column = pa.array(["1234567893"] * offset + values, pa.string()).slice(offset)
    assert _valid_npis(column).to_pylist() == [v is not None and is_valid_npi(v) for v in values]

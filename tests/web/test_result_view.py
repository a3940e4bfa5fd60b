"""Wording helpers of the result page."""

from fusioncare.web.questionnaire import Answers
from fusioncare.web.result_view import in_sentence, surgery_ago


def test_red_flag_words_read_inside_the_what_to_say_sentence():
    assert in_sentence("A leg that is getting weaker") == "a leg that is getting weaker"
    assert in_sentence("New loss of control of your bowels") == "new loss of control of your bowels"
    assert in_sentence("TENS made it worse") == "TENS made it worse"


def test_time_since_surgery_is_said_the_way_it_was_entered():
    assert surgery_ago(Answers([("surgery_time_amount", "1"), ("surgery_time_unit", "years")])) == "1 year ago"
    assert surgery_ago(Answers([("surgery_time_amount", "2.5"), ("surgery_time_unit", "years")])) == "2.5 years ago"
    assert surgery_ago(Answers([("surgery_time_amount", "3"), ("surgery_time_unit", "months")])) == "3 months ago"
